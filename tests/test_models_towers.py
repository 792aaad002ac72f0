"""The text models' two towers; checkpoints saved before the towers existed still load.

Before the towers, a text model named its parts after the side (`item_id.*`, `item_text.*`,
`item_text_proj.*`, `item_fusion.*` or `item_norm.*`; GPT2Recommender: `item_proj.*`), and the
cross-attention's projections were `q_proj`, `k_proj`, `v_proj`, `out_proj` (now `W_q`, `W_k`,
`W_v`, `W_o`). The layouts below are written out by hand from such checkpoints, not derived
from the code; models/legacy.py converts them when a checkpoint is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from rec_core.data import DataConfig
from rec_core.experiment import CheckpointMismatch, RunConfig, execute_run, load_run_model, start_run
from rec_core.models.base import Batch, TrainContext
from rec_core.models.enhanced import AttentionTower, EnhancedConfig
from rec_core.models.gpt2rec import GPT2RecConfig
from rec_core.models.registry import build_model
from rec_core.models.towers import ConcatTower, TwoTowerRecommender
from rec_core.runs import RunStore
from rec_core.train import TrainConfig
from tests.helpers import split_of, synthetic

TINY = {"backbone": "tiny-gpt2", "max_length": 32, "embed_dim": 16}
CONFIGS: dict[str, Any] = {
    "enhanced": EnhancedConfig(**TINY, n_heads=2),
    "enhanced-simple": EnhancedConfig.from_preset("scheme1", **TINY),
    "enhanced-no-user-text": EnhancedConfig(**TINY, n_heads=2, use_user_text=False),
    "gpt2rec": GPT2RecConfig(**TINY),
}

_SIDES = ("user", "item")
_PROJ = [f"text_proj.{i}.{w}" for i in (0, 1, 3) for w in ("weight", "bias")]
_ATTENTION = ["fusion.k_proj.weight"] + [
    f"fusion.{m}.{w}" for m in ("q_proj", "v_proj", "out_proj", "norm") for w in ("weight", "bias")
]
_COMMON = {"bias", "gate", "seen_users", "seen_items"}
# Checkpoint keys of the layout before the towers, per config.
OLD_KEYS = {
    "enhanced": _COMMON
    | {
        f"{s}_{k}"
        for s in _SIDES
        for k in ("id.neutral", "id.table.weight", "text.pca_mean", "text.pca_axes", *_PROJ, *_ATTENTION)
    },
    "enhanced-simple": _COMMON
    | {
        f"{s}_{k}"
        for s in _SIDES
        for k in ("id.neutral", "id.table.weight", "text.pca_mean", "text.pca_axes", *_PROJ, "norm.weight", "norm.bias")
    },
    "enhanced-no-user-text": _COMMON
    | {f"{s}_{k}" for s in _SIDES for k in ("id.neutral", "id.table.weight", *_PROJ, *_ATTENTION)}
    | {"item_text.pca_mean", "item_text.pca_axes"},
    "gpt2rec": _COMMON
    | {f"{s}_{k}" for s in _SIDES for k in ("id.neutral", "id.table.weight", "proj.weight", "proj.bias")},
}


# Today's cross-attention names -> the names they had until the textbook renaming.
_ATTENTION_OLD = {"W_q": "q_proj", "W_k": "k_proj", "W_v": "v_proj", "W_o": "out_proj"}


def _pre_textbook_key(key: str) -> str:
    """The name `key` had in the towers' layout before the cross-attention's textbook names."""
    for new, old in _ATTENTION_OLD.items():
        for side in _SIDES:
            if key.startswith(f"{side}_tower.fusion.{new}."):
                return key.replace(f".fusion.{new}.", f".fusion.{old}.", 1)
    return key


def _old_key(key: str, kind: str) -> str:
    """The name `key` had before the towers."""
    key = _pre_textbook_key(key)
    for side in _SIDES:
        tower = f"{side}_tower."
        if not key.startswith(tower):
            continue
        part, rest = key[len(tower) :].split(".", 1)
        if kind == "gpt2rec":
            old = {"ids": "id", "fusion": "proj"}[part]
        else:
            old = {
                "ids": "id",
                "text": "text",
                "text_proj": "text_proj",
                "fusion": "norm" if kind == "enhanced-simple" else "fusion",
            }[part]
        return f"{side}_{old}.{rest}"
    return key


def _trained(kind: str, split_kind: str = "ratio") -> tuple[TwoTowerRecommender[Any], Any, TrainContext]:
    """A tiny model of `kind` after three Adam steps (seeded), in eval mode, with its data and context."""
    data = synthetic()
    split = split_of(data, split_kind)
    ctx = TrainContext(data.n_users, data.n_items, data.users[split.train], data.items[split.train])
    torch.manual_seed(0)
    model = build_model(CONFIGS[kind], data)
    assert isinstance(model, TwoTowerRecommender)
    model.prepare(ctx)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.05)
    g = torch.Generator().manual_seed(1)
    model.train()
    for _ in range(3):
        batch = Batch(*(torch.randint(0, n, (64,), generator=g) for n in (data.n_users, data.n_items, data.n_items)))
        opt.zero_grad()
        model.loss(batch)["total"].backward()
        opt.step()
    return model.eval(), data, ctx


@pytest.mark.parametrize("kind", list(CONFIGS))
def test_each_side_is_one_tower(kind: str) -> None:
    model, data, _ = _trained(kind)
    cls = ConcatTower if kind == "gpt2rec" else AttentionTower
    assert isinstance(model.user_tower, cls) and isinstance(model.item_tower, cls)
    assert model.tower("user") is model.user_tower and model.tower("item") is model.item_tower
    assert model.item_tower.ids.table.weight.shape == (data.n_items, 16)
    keys = set(model.checkpoint_state())
    assert all(k.startswith(("user_tower.", "item_tower.")) or k in _COMMON or k.startswith("encoder.") for k in keys)


@pytest.mark.parametrize("kind", list(CONFIGS))
def test_a_checkpoint_in_the_layout_before_the_towers_loads_and_scores_the_same(kind: str) -> None:
    model, data, _ = _trained(kind)
    old = {_old_key(k, kind): v for k, v in model.checkpoint_state().items()}
    assert set(old) == OLD_KEYS[kind]
    torch.manual_seed(1)  # other initial weights: everything must come from the checkpoint
    fresh = build_model(CONFIGS[kind], data)
    fresh.load_checkpoint_state(old)
    fresh.eval()
    new_state = fresh.state_dict()
    assert all(torch.equal(new_state[k], v) for k, v in model.state_dict().items())
    users = torch.arange(data.n_users)
    with torch.no_grad():
        assert torch.equal(fresh.full_scores(users), model.full_scores(users))
    # A key that is still missing after the renaming is an error, as before.
    broken = {k: v for k, v in old.items() if not k.startswith("item_id.")}
    with pytest.raises(ValueError, match="missing"):
        build_model(CONFIGS[kind], data).load_checkpoint_state(broken)


def test_a_run_saved_in_the_old_layout_loads_through_the_run_store(tmp_path: Path) -> None:
    kind = "enhanced"
    config = RunConfig(
        data=DataConfig(name="synthetic", synthetic_users=120, synthetic_items=90),
        model=CONFIGS[kind],
        train=TrainConfig(epochs=1, batch_size=512, device="cpu", threads=1),
    )
    store = RunStore(tmp_path)
    run = execute_run(start_run(config, store))
    saved = store.get(run["run_id"])
    model, _ = load_run_model(saved)
    state, meta = saved.load_checkpoint()
    saved.save_checkpoint({_old_key(k, kind): v for k, v in state.items()}, meta)
    old_model, _ = load_run_model(saved)
    users = torch.arange(model.n_users)
    with torch.no_grad():
        assert torch.equal(old_model.full_scores(users), model.full_scores(users))
    saved.save_checkpoint({k: v for k, v in state.items() if not k.startswith("item_tower.ids.")}, meta)
    with pytest.raises(CheckpointMismatch, match="missing"):
        load_run_model(saved)


def test_a_warm_started_model_validated_before_its_first_step_still_trains(tmp_path: Path) -> None:
    """A warm-started run validates its initial weights (under inference_mode) before its first
    step; the cached, normalised pooled text built then must not be an inference tensor, which
    backward cannot save ("Inference tensors cannot be saved for backward")."""
    import dataclasses

    from rec_core.models.mf import MFConfig

    store = RunStore(tmp_path / "runs")
    data = DataConfig(name="synthetic", synthetic_users=120, synthetic_items=90)
    train = TrainConfig(epochs=10, lr=2e-3, batch_size=256, patience=20, threads=1)  # 10: not a smoke run
    execute_run(start_run(RunConfig(data=data, model=MFConfig(embed_dim=16), train=train), store))
    for text in (
        EnhancedConfig.from_preset("scheme1", **TINY, init_from_run="auto", gate_init=0.0),
        EnhancedConfig(**TINY, n_heads=2, contrastive_weight=0.1, init_from_run="auto", gate_init=0.0),
    ):
        config = RunConfig(data=data, model=text, train=dataclasses.replace(train, epochs=1))
        results = execute_run(start_run(config, store))
        assert results["epochs_run"] == 1 and results["warm_start_run"]  # raised RuntimeError before the fix
