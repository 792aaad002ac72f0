"""The Enhanced model contains GPT2Recommender (issue "The seed's model wins where text
matters", item 1): with base "gpt2rec" its score is GPT2Recommender's score (the MF part and
the gated pooled-text part, the same arithmetic) plus the gated attention part, so with
`gate_init` 0 and a GPT2Recommender's weights it scores exactly as that model."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from rec_core.data import DataConfig
from rec_core.errors import ConfigError
from rec_core.experiment import RunConfig, execute_run, start_run
from rec_core.models.base import Batch, TrainContext
from rec_core.models.enhanced import EnhancedConfig
from rec_core.models.gpt2rec import GPT2RecConfig
from rec_core.models.registry import build_model
from rec_core.runs import RunStore
from rec_core.train import TrainConfig
from tests.helpers import split_of, synthetic
from tests.test_models_towers import _trained

TEXT = {"backbone": "tiny-gpt2", "max_length": 32, "embed_dim": 16}


@pytest.mark.parametrize("use_attention", [True, False])
def test_gate_0_with_a_gpt2recommenders_weights_scores_exactly_as_it(use_attention: bool) -> None:
    # cold-items: unseen items, so the neutral vector and the standardisation matter
    base, data, ctx = _trained("gpt2rec", "cold-items")
    enhanced = build_model(
        EnhancedConfig(**TEXT, n_heads=2, base="gpt2rec", gate_init=0.0, use_attention=use_attention), data
    )
    enhanced.prepare(ctx)
    enhanced.load_base_weights(base.checkpoint_state())
    enhanced.eval()
    users = torch.arange(data.n_users)
    with torch.no_grad():
        assert torch.equal(enhanced.full_scores(users), base.full_scores(users))
        items = torch.randint(0, data.n_items, (data.n_users,))
        assert torch.equal(enhanced.score(users, items), base.score(users, items))
    # The attention part is really there: a non-zero gate moves the scores.
    with torch.no_grad():
        enhanced.gate.fill_(1.0)
    assert not torch.equal(enhanced.full_scores(users), base.full_scores(users))


def test_base_gpt2rec_trains_and_the_pooled_part_learns() -> None:
    data = synthetic()
    split = split_of(data, "ratio")
    ctx = TrainContext(data.n_users, data.n_items, data.users[split.train], data.items[split.train])
    model = build_model(EnhancedConfig(**TEXT, n_heads=2, base="gpt2rec", contrastive_weight=0.1), data)
    model.prepare(ctx)
    model.train()
    before = model.item_pooled.fusion.weight.detach().clone()
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.05)
    for every in (False, True):  # a small batch (gathered ids) and one holding most entities
        n = 16 if not every else 512
        batch = Batch(*(torch.randint(0, k, (n,)) for k in (data.n_users, data.n_items, data.n_items)))
        opt.zero_grad()
        loss = model.loss(batch)
        assert torch.isfinite(loss["total"])
        loss["total"].backward()
        assert model.base_gate.grad is not None and model.item_pooled.fusion.weight.grad is not None
        opt.step()
    assert not torch.equal(model.item_pooled.fusion.weight, before)


def test_bad_base_and_a_base_mismatch_are_refused() -> None:
    with pytest.raises(ConfigError, match="base"):
        EnhancedConfig(**TEXT, base="lightgcn")
    data = synthetic()
    model = build_model(EnhancedConfig(**TEXT, n_heads=2), data)
    with pytest.raises(ConfigError, match="base 'gpt2rec'"):
        model.load_base_weights({})


def test_init_from_a_gpt2recommender_run_starts_from_its_validation(tmp_path: Path) -> None:
    """Through the run store: warm-started from a finished GPT2Recommender run with gate 0, the
    Enhanced run's initial validation equals that run's best validation exactly."""
    store = RunStore(tmp_path / "runs")
    data = DataConfig(name="synthetic", synthetic_users=120, synthetic_items=90)
    train = TrainConfig(epochs=3, lr=2e-3, batch_size=256, patience=20, threads=1)
    source = execute_run(start_run(RunConfig(data=data, model=GPT2RecConfig(**TEXT), train=train), store))
    model = EnhancedConfig(**TEXT, n_heads=2, base="gpt2rec", gate_init=0.0, init_from_run=source["run_id"])
    run = start_run(RunConfig(data=data, model=model, train=dataclasses.replace(train, epochs=1)), store)
    results = execute_run(run)
    assert results["warm_start_run"] == source["run_id"]
    initial = next(h for h in store.get(run.run_id).history() if h.get("epoch") == 0)
    assert initial["valid"]["ndcg@10"] == source["valid"]["primary"]["metrics"]["ndcg@10"]
    with pytest.raises(ConfigError, match="init_from_run"):  # base "mf" takes MF runs only
        start_run(RunConfig(data=data, model=dataclasses.replace(model, base="mf"), train=train), store)


def test_freeze_mf_keeps_the_whole_gpt2recommender_fixed() -> None:
    base, data, ctx = _trained("gpt2rec")
    config = EnhancedConfig(**TEXT, n_heads=2, base="gpt2rec", gate_init=0.0, freeze_mf=True, init_from_run="x")
    model = build_model(config, data)
    model.prepare(ctx)
    model.load_base_weights(base.checkpoint_state())
    frozen = [model.base_gate, model.item_pooled.fusion.weight, model.user_tower.ids.table.weight, model.bias]
    assert not any(t.requires_grad for t in frozen) and model.gate.requires_grad
