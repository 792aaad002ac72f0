"""Text models contain MF: a zero gate scores exactly as MF; warm start from an MF run; scores
never go stale (explicit scoring passes); bucketed attention agrees with per-entity attention."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import torch

from rec_core.data import DataConfig
from rec_core.errors import ConfigError
from rec_core.experiment import RunConfig, execute_run, prepare_data, start_run
from rec_core.models import fast_paths
from rec_core.models.base import Batch, Recommender, TrainContext
from rec_core.models.enhanced import EnhancedConfig
from rec_core.models.fast_paths import length_buckets
from rec_core.models.gpt2rec import GPT2RecConfig, GPT2Recommender
from rec_core.models.mf import MF, MFConfig
from rec_core.models.popularity import PopularityConfig
from rec_core.models.registry import build_model
from rec_core.runs import RunStore
from rec_core.split import SplitConfig
from rec_core.train import TrainConfig, Trainer
from rec_core.warm_start import SMOKE_EPOCHS, apply_warm_start
from tests.helpers import split_of, synthetic

TINY = {"backbone": "tiny-gpt2", "max_length": 32, "embed_dim": 16}
TEXT_CONFIGS = {
    "enhanced": EnhancedConfig(**TINY, n_heads=2),
    "enhanced-simple": EnhancedConfig.from_preset("scheme1", **TINY),
    "enhanced-no-user-text": EnhancedConfig(**TINY, n_heads=2, use_user_text=False),
    "enhanced-residual": EnhancedConfig(**TINY, n_heads=2, text_residual=True),
    "enhanced-simple-residual": EnhancedConfig.from_preset("scheme1", **TINY, text_residual=True),
    "gpt2rec": GPT2RecConfig(**TINY),
}


def _prepared(cfg: Any, split_kind: str = "ratio") -> tuple[Recommender, Any, Any]:
    data = synthetic()
    split = split_of(data, split_kind)
    torch.manual_seed(0)
    model = build_model(cfg, data)
    model.prepare(TrainContext(data.n_users, data.n_items, data.users[split.train], data.items[split.train]))
    return model, data, split


def _train_a_little(model: Recommender, data: Any, steps: int = 3) -> None:
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.05)
    g = torch.Generator().manual_seed(1)
    model.train()
    for _ in range(steps):
        batch = Batch(
            torch.randint(0, data.n_users, (64,), generator=g),
            torch.randint(0, data.n_items, (64,), generator=g),
            torch.randint(0, data.n_items, (64,), generator=g),
        )
        opt.zero_grad()
        model.loss(batch)["total"].backward()
        opt.step()
    model.eval()


def _scores(model: Recommender, n: int) -> torch.Tensor:
    with torch.no_grad():
        return model.full_scores(torch.arange(n))


# -- the zero gate is MF ------------------------------------------------------------------------
@pytest.mark.parametrize("key", list(TEXT_CONFIGS))
@pytest.mark.parametrize("split_kind", ["ratio", "cold-items"])
def test_zero_gate_scores_exactly_as_mf_with_the_same_id_weights(key: str, split_kind: str) -> None:
    model, data, split = _prepared(TEXT_CONFIGS[key], split_kind)
    _train_a_little(model, data)  # text part, bias and gate away from their init
    mf = MF(data.n_users, data.n_items, MFConfig(embed_dim=16))
    mf.prepare(TrainContext(data.n_users, data.n_items, data.users[split.train], data.items[split.train]))
    with torch.no_grad():
        mf.user_emb.weight.copy_(model.user_tower.ids.table.weight)
        mf.item_emb.weight.copy_(model.item_tower.ids.table.weight)
        mf.bias.copy_(model.bias)
        assert not torch.equal(_scores(model, data.n_users), _scores(mf.eval(), data.n_users))
        model.gate.zero_()
    assert torch.equal(_scores(model, data.n_users), _scores(mf, data.n_users))
    users, items = torch.tensor([0, 3, 7, 7]), torch.tensor([1, 2, 2, data.n_items - 1])
    with torch.no_grad():
        assert torch.equal(model.score(users, items), mf.score(users, items))


@pytest.mark.parametrize("key", ["enhanced", "gpt2rec"])
def test_cold_items_score_from_text_alone(key: str) -> None:
    # An item never seen in training has MF part 0: its score comes from the gated text part,
    # and two cold items with different texts score differently.
    model, data, split = _prepared(TEXT_CONFIGS[key], "cold-items")
    _train_a_little(model, data)
    unseen = (~model.seen_items).nonzero().squeeze(1)
    s = _scores(model, 5)[:, unseen]
    assert s.std() > 0
    with torch.no_grad():
        model.gate.zero_()
    assert (_scores(model, 5)[:, unseen] == 0).all()


def test_gate_and_mf_fields_are_checked() -> None:
    for cls in (EnhancedConfig, GPT2RecConfig):
        with pytest.raises(ConfigError, match="reg_weight"):
            cls(reg_weight=-1.0)
        with pytest.raises(ConfigError, match="gate_init"):
            cls(gate_init=float("nan"))
        with pytest.raises(ConfigError, match="init_from_run"):
            cls(init_from_run="../elsewhere")
    assert EnhancedConfig(gate_init=0.0).gate_init == 0.0


# -- stale scores ----------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["enhanced", "gpt2rec"])
def test_scores_follow_weights_changed_through_data(key: str) -> None:
    model, data, _ = _prepared(TEXT_CONFIGS[key])
    model.eval()
    before = _scores(model, data.n_users)
    fusion = model.item_tower.fusion.W_o.weight if key == "enhanced" else model.item_tower.fusion.weight
    fusion.data = fusion.data * 3.0  # a new tensor: no in-place op, no version bump on the parameter
    model.gate.data = model.gate.data + 1.0
    after = _scores(model, data.n_users)
    assert not torch.allclose(after, before)
    fresh = build_model(TEXT_CONFIGS[key], data)
    fresh.load_checkpoint_state(model.checkpoint_state())
    fresh.prepare(TrainContext(data.n_users, data.n_items, data.users, data.items))
    fresh.seen_users.copy_(model.seen_users)
    fresh.seen_items.copy_(model.seen_items)
    torch.testing.assert_close(_scores(fresh.eval(), data.n_users), after)


@pytest.mark.parametrize("key", ["enhanced", "gpt2rec"])
def test_scores_follow_a_checkpoint_load(key: str) -> None:
    model, data, _ = _prepared(TEXT_CONFIGS[key])
    model.eval()
    state = {k: v.clone() for k, v in model.checkpoint_state().items()}
    first = _scores(model, data.n_users)
    _train_a_little(model, data)
    trained = _scores(model, data.n_users)
    assert not torch.allclose(trained, first)
    with model.scoring():  # even inside a pass, a checkpoint load drops the pass's tables
        assert torch.equal(_scores(model, data.n_users), trained)
        model.load_checkpoint_state(state)
        torch.testing.assert_close(_scores(model, data.n_users), first)
    torch.testing.assert_close(_scores(model, data.n_users), first)


@pytest.mark.parametrize("key", ["enhanced", "gpt2rec"])
def test_scores_follow_a_dtype_change(key: str) -> None:
    model, data, _ = _prepared(TEXT_CONFIGS[key])
    model.eval()
    single = _scores(model, data.n_users)
    model.double()
    double = _scores(model, data.n_users)
    assert double.dtype == torch.float64
    torch.testing.assert_close(double.float(), single, rtol=1e-4, atol=1e-4)
    with torch.no_grad():
        model.gate.mul_(2.0)
    assert not torch.allclose(_scores(model, data.n_users), double)


@pytest.mark.parametrize("key", ["enhanced", "gpt2rec"])
def test_a_scoring_pass_builds_its_tables_once(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    model, data, _ = _prepared(TEXT_CONFIGS[key])
    model.eval()
    calls = []
    build = model._build_tables
    monkeypatch.setattr(model, "_build_tables", lambda: calls.append(1) or build())
    with model.scoring():
        a = _scores(model, 10)
        b = model.full_scores(torch.arange(10, 20))
        model.score(torch.tensor([0]), torch.tensor([0]))
    assert len(calls) == 1 and a.shape == b.shape
    _scores(model, 10)
    _scores(model, 10)
    assert len(calls) == 3  # outside a pass: afresh every call
    with pytest.raises(RuntimeError, match="end_scoring"):
        model.end_scoring()


# -- speed paths agree ------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["enhanced", "enhanced-residual"])
@pytest.mark.parametrize("side", ["user", "item"])
def test_bucketed_attention_over_all_entities_matches_per_entity_attention(side: str, key: str) -> None:
    model, data, _ = _prepared(TEXT_CONFIGS[key])
    model.eval()
    n = data.n_users if side == "user" else data.n_items
    seen = model.seen_users if side == "user" else model.seen_items
    with torch.no_grad():
        bucketed = fast_paths.fused_all(model.tower(side), seen)
        one_by_one = model.represent(side, torch.arange(n))["fusion"]
    torch.testing.assert_close(bucketed, one_by_one, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("key", ["enhanced", "enhanced-simple", "enhanced-no-user-text", "enhanced-residual"])
def test_loss_is_the_same_whether_a_step_attends_over_all_entities_or_the_batch(
    key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, data, _ = _prepared(TEXT_CONFIGS[key])
    model.eval()  # no dropout: both paths must give the same numbers
    g = torch.Generator().manual_seed(0)
    batch = Batch(
        torch.randint(0, data.n_users, (256,), generator=g),
        torch.randint(0, data.n_items, (256,), generator=g),
        torch.randint(0, data.n_items, (256,), generator=g),
    )
    out = {}
    for forced in (True, False):
        monkeypatch.setattr(fast_paths, "attends_all", lambda model, nu, ni, f=forced: f)
        torch.manual_seed(3)  # the contrastive sample
        out[forced] = {k: v.item() for k, v in model.loss(batch).items()}
    assert out[True].keys() == out[False].keys() >= {"bpr", "reg", "total"}
    for k in out[True]:
        assert out[True][k] == pytest.approx(out[False][k], rel=1e-5, abs=1e-6), k


def test_length_buckets_cover_every_entity_and_pad_little() -> None:
    assert length_buckets([]) == []
    assert length_buckets([12] * 10) == [(0, 10, 16)]  # at least 16 wide
    lengths = sorted([16] * 500 + [20] * 400 + [32] * 50)
    buckets = length_buckets(lengths, overhead=0)
    assert buckets[0][0] == 0 and buckets[-1][1] == len(lengths)
    assert all(a2 == b1 for (_, b1, _), (a2, _, _) in zip(buckets, buckets[1:]))
    assert all(t >= max(lengths[a:b]) for a, b, t in buckets)
    assert sum((b - a) * t for a, b, t in buckets) == 500 * 16 + 400 * 20 + 50 * 32


# -- warm start -----------------------------------------------------------------------------------
DATA = DataConfig(name="synthetic", synthetic_users=120, synthetic_items=90)
FAST = TrainConfig(epochs=3, lr=0.01, batch_size=512, device="cpu", patience=0)


@pytest.fixture(scope="module")
def mf_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunStore, dict[str, Any]]:
    store = RunStore(tmp_path_factory.mktemp("runs"))
    mf = start_run(RunConfig(data=DATA, model=MFConfig(embed_dim=16), train=FAST), store, "mf-s0")
    results = execute_run(mf)
    # mf-s0 trained 3 epochs: a smoke run, which `auto` skips; this one is what `auto` finds.
    trained = dataclasses.replace(FAST, epochs=SMOKE_EPOCHS)
    execute_run(start_run(RunConfig(data=DATA, model=MFConfig(embed_dim=16), train=trained), store, "mf-s0-trained"))
    pop = start_run(RunConfig(data=DATA, model=PopularityConfig(), train=FAST), store, "pop-s0")
    execute_run(pop)
    start_run(RunConfig(data=DATA, model=MFConfig(embed_dim=16), train=FAST), store, "mf-queued")
    return store, results


@pytest.mark.parametrize("key", ["enhanced", "gpt2rec"])
def test_warm_start_with_zero_gate_validates_as_the_mf_run(key: str, mf_store: tuple[RunStore, Any]) -> None:
    store, mf_results = mf_store
    cfg = dataclasses.replace(TEXT_CONFIGS[key], init_from_run="mf-s0", gate_init=0.0)
    config = RunConfig(data=DATA, model=cfg, train=FAST)
    data, split = prepare_data(config)
    torch.manual_seed(0)
    model = build_model(cfg, data)
    assert apply_warm_start(model, config, store) == "mf-s0"
    trainer = Trainer(model, data, split, config.train, config.eval)
    trainer.fit(0)  # prepares (seen ids); no step
    epoch0 = trainer.validate()
    assert epoch0 == mf_results["valid"]["primary"]["metrics"]


def test_warm_start_runs_end_to_end(mf_store: tuple[RunStore, Any]) -> None:
    store, _ = mf_store
    config = RunConfig(
        data=DATA,
        model=EnhancedConfig(**TINY, n_heads=2, init_from_run="mf-s0"),
        train=dataclasses.replace(FAST, epochs=1),
    )
    results = execute_run(start_run(config, store))
    assert results["completion"]["state"] == "finished"
    assert results["warm_start_run"] == "mf-s0"


def test_warm_start_auto_finds_the_mf_run_of_the_same_seed(mf_store: tuple[RunStore, Any]) -> None:
    store, _ = mf_store
    model = EnhancedConfig(**TINY, n_heads=2, init_from_run="auto")
    results = execute_run(
        start_run(RunConfig(data=DATA, model=model, train=dataclasses.replace(FAST, epochs=1)), store)
    )
    # The queued MF run, the Popularity run and the smoke run mf-s0 are skipped.
    assert results["warm_start_run"] == "mf-s0-trained"
    before = {p.name for p in Path(store.root).iterdir()}
    with pytest.raises(ConfigError, match="init_from_run") as err:  # no finished MF run of seed 1
        start_run(RunConfig(data=DATA, model=model, seed=1), store)
    assert "'auto' found no finished MF run" in str(err.value) and "seed 1" in str(err.value)
    assert {p.name for p in Path(store.root).iterdir()} == before


@pytest.mark.parametrize(
    ("run_config", "message"),
    [
        (RunConfig(data=DATA, model=EnhancedConfig(**TINY, n_heads=2, init_from_run="nope")), "no run 'nope'"),
        (RunConfig(data=DATA, model=EnhancedConfig(**TINY, n_heads=2, init_from_run="pop-s0")), "'pop' run"),
        (RunConfig(data=DATA, model=EnhancedConfig(**TINY, n_heads=2, init_from_run="mf-queued")), "not finished"),
        (RunConfig(data=DATA, model=EnhancedConfig(**TINY, n_heads=2, init_from_run="mf-s0"), seed=1), "seed"),
        (
            RunConfig(
                data=DATA, split=SplitConfig(kind="loo"), model=EnhancedConfig(**TINY, n_heads=2, init_from_run="mf-s0")
            ),
            "split.kind",
        ),
        (
            RunConfig(
                data=dataclasses.replace(DATA, synthetic_items=80),
                model=EnhancedConfig(**TINY, n_heads=2, init_from_run="mf-s0"),
            ),
            "data.synthetic_items",
        ),
        (RunConfig(data=DATA, model=GPT2RecConfig(**{**TINY, "embed_dim": 8}, init_from_run="mf-s0")), "embed_dim"),
    ],
)
def test_warm_start_refuses_before_the_run_folder_exists(
    run_config: RunConfig, message: str, mf_store: tuple[RunStore, Any]
) -> None:
    store, _ = mf_store
    before = {p.name for p in Path(store.root).iterdir()}
    with pytest.raises(ConfigError, match="init_from_run") as err:
        start_run(run_config, store)
    assert message in str(err.value)
    assert {p.name for p in Path(store.root).iterdir()} == before


def test_warm_start_copies_the_mf_weights(mf_store: tuple[RunStore, Any]) -> None:
    store, _ = mf_store
    mf_state, _ = store.get("mf-s0").load_checkpoint()
    config = RunConfig(data=DATA, model=GPT2RecConfig(**TINY, init_from_run="mf-s0"))
    data = synthetic()
    model = build_model(config.model, data)
    assert isinstance(model, GPT2Recommender)
    apply_warm_start(model, config, store)
    assert torch.equal(model.user_tower.ids.table.weight, mf_state["user_emb.weight"])
    assert torch.equal(model.item_tower.ids.table.weight, mf_state["item_emb.weight"])
    assert torch.equal(model.bias, mf_state["bias"])


@pytest.mark.parametrize("key", ["enhanced", "enhanced-simple", "gpt2rec"])
def test_zero_gate_trains_as_mf_unless_mf_dropout(key: str) -> None:
    # With gate 0 the training loss is MF's loss (BPR and L2) on the same batch, whatever the
    # ID dropout does to the text part's queries; `mf_dropout` drops ids from the MF part too.
    data = synthetic()
    split = split_of(data, "ratio")
    seen_items = torch.as_tensor(data.items[split.train]).unique()
    g = torch.Generator().manual_seed(0)
    rows = torch.randint(0, len(split.train), (256,), generator=g)
    batch = Batch(
        torch.as_tensor(data.users[split.train])[rows],
        torch.as_tensor(data.items[split.train])[rows],
        seen_items[torch.randint(0, len(seen_items), (256,), generator=g)],
    )
    ctx = TrainContext(data.n_users, data.n_items, data.users[split.train], data.items[split.train])
    mf = MF(data.n_users, data.n_items, MFConfig(embed_dim=16))
    mf.prepare(ctx)
    with torch.no_grad():
        mf.bias.normal_()
    expected = {k: v.item() for k, v in mf.loss(batch).items()}
    losses = {}
    for mf_dropout in (False, True):
        cfg = dataclasses.replace(TEXT_CONFIGS[key], gate_init=0.0, id_dropout=0.5, mf_dropout=mf_dropout)
        model = build_model(cfg, data)
        model.prepare(ctx)
        model.load_id_weights(mf.user_emb.weight.detach(), mf.item_emb.weight.detach(), mf.bias.detach())
        model.train()
        torch.manual_seed(0)
        losses[mf_dropout] = {k: v.item() for k, v in model.loss(batch).items()}
    assert losses[False]["bpr"] == pytest.approx(expected["bpr"], rel=1e-5)
    assert losses[False]["reg"] == pytest.approx(expected["reg"], rel=1e-5)
    assert losses[True]["bpr"] != pytest.approx(expected["bpr"], rel=1e-3)


@pytest.mark.parametrize("query_grad", [True, False])
def test_query_grad_decides_whether_the_text_part_trains_the_id_embeddings(query_grad: bool) -> None:
    model, data, _ = _prepared(dataclasses.replace(TEXT_CONFIGS["enhanced"], query_grad=query_grad))
    model.train()
    for side, n in (("item", data.n_items), ("user", data.n_users)):
        ids = model.tower(side).ids
        seen = model.seen_items if side == "item" else model.seen_users
        for f in (
            fast_paths.fused_all(model.tower(side), seen),
            model.represent(side, torch.arange(n), seen)["fusion"],
        ):
            ids.table.weight.grad = None
            (f * torch.linspace(-1, 1, f.shape[1])).sum().backward()  # any non-constant function of f
            grad = ids.table.weight.grad
            assert (grad is not None and bool(grad.abs().sum() > 0)) == query_grad


# -- never below the warm-start MF on validation ---------------------------------------------------
@pytest.mark.parametrize("key", ["enhanced", "gpt2rec"])
def test_a_warm_started_run_keeps_the_mf_weights_unless_an_epoch_validates_better(
    key: str, mf_store: tuple[RunStore, Any]
) -> None:
    # A learning rate that wrecks the text part: every epoch validates worse than the MF run it
    # started from, so the run restores the initial (MF) weights and its test metrics are MF's.
    store, mf_results = mf_store
    cfg = dataclasses.replace(TEXT_CONFIGS[key], init_from_run="mf-s0", gate_init=0.0, freeze_mf=True)
    config = RunConfig(data=DATA, model=cfg, train=dataclasses.replace(FAST, epochs=2, lr=50.0, patience=0))
    results = execute_run(start_run(config, store))
    history = store.get(results["run_id"]).history()
    assert history[0]["epoch"] == 0 and history[0]["phase"] == "initial"
    assert history[0]["valid"] == mf_results["valid"]["primary"]["metrics"]
    assert all(h["valid"]["ndcg@10"] < history[0]["valid"]["ndcg@10"] for h in history[1:])
    assert (results["best_epoch"], results["best_phase"]) == (0, "initial")
    assert results["test"]["primary"]["metrics"] == mf_results["test"]["primary"]["metrics"]
    assert "initial (warm-start) weights" in results["completion"]["summary"]


@pytest.mark.parametrize("key", ["enhanced", "gpt2rec"])
def test_freeze_mf_keeps_the_warm_started_mf_part_fixed(key: str, mf_store: tuple[RunStore, Any]) -> None:
    store, _ = mf_store
    cfg = dataclasses.replace(TEXT_CONFIGS[key], init_from_run="mf-s0", freeze_mf=True)
    config = RunConfig(data=DATA, model=cfg, train=FAST)
    data, split = prepare_data(config)
    model = build_model(cfg, data)
    apply_warm_start(model, config, store)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    trainer = Trainer(model, data, split, config.train, config.eval)
    trainer.fit(2)
    after = dict(model.named_parameters())
    frozen = {"user_tower.ids.table.weight", "item_tower.ids.table.weight", "bias"}
    assert all(torch.equal(before[n], after[n]) for n in frozen)
    assert any(not torch.equal(before[n], p) for n, p in after.items() if p.requires_grad)  # the text part learnt
    with pytest.raises(ConfigError, match="freeze_mf") as err:
        dataclasses.replace(TEXT_CONFIGS[key], freeze_mf=True)
    assert "init_from_run" in str(err.value)
