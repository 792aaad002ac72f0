"""The text-to-ID map (issue "The seed's model wins where text matters", item 2): items unseen in
training get an MF row mapped from their text view, A t_i, instead of 0; the map learns the
ID space of the items seen in training (a regression term, ID rows detached) and through BPR
on the items it serves (dropped ones with `mf_dropout`)."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from rec_core.errors import ConfigError
from rec_core.models.base import Batch, TrainContext
from rec_core.models.enhanced import EnhancedConfig, GPT2RecommenderEnhanced
from rec_core.models.registry import build_model
from tests.helpers import split_of, synthetic
from tests.test_models_towers import _trained

TEXT = {"backbone": "tiny-gpt2", "max_length": 32, "embed_dim": 16, "n_heads": 2}


def _cold_model(**overrides: object) -> tuple[GPT2RecommenderEnhanced, TrainContext, object]:
    data = synthetic()
    split = split_of(data, "cold-items")
    ctx = TrainContext(data.n_users, data.n_items, data.users[split.train], data.items[split.train])
    torch.manual_seed(0)
    model = build_model(EnhancedConfig(**{**TEXT, "text_to_id": True, **overrides}), data)
    assert isinstance(model, GPT2RecommenderEnhanced)
    model.prepare(ctx)
    return model, ctx, data


def _steps(model: GPT2RecommenderEnhanced, data: object, n: int, batch: int = 64) -> list[dict[str, float]]:
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.05)
    g = torch.Generator().manual_seed(1)
    model.train()
    out = []
    for _ in range(n):
        b = Batch(*(torch.randint(0, k, (batch,), generator=g) for k in (data.n_users, data.n_items, data.n_items)))
        opt.zero_grad()
        parts = model.loss(b)
        parts["total"].backward()
        opt.step()
        out.append({k: float(v.detach()) for k, v in parts.items()})
    return out


def test_unseen_items_score_with_their_mapped_text_and_seen_ones_with_their_rows() -> None:
    model, _, data = _cold_model()
    _steps(model, data, 5)
    model.eval()
    unseen = (~model.seen_items).nonzero().squeeze(1)
    seen = model.seen_items.nonzero().squeeze(1)
    assert len(unseen) > 0 and len(seen) > 0
    with torch.no_grad():
        tables = model._build_tables()
        mapped = model.text_to_id(model.item_tower.project_cached())
    assert torch.equal(tables["items"][unseen], mapped[unseen])
    assert torch.equal(tables["items"][seen], model.item_tower.ids.table.weight[seen])
    assert tables["items"][unseen].abs().sum() > 0  # no longer the zero row of the map-less model
    # The `id` view of the Embeddings page shows the same rows.
    assert torch.allclose(model.item_embeddings("id"), tables["items"])
    # And the MF part of a cold item's score is <e_u, A t_i>: full ranking agrees with the tables.
    users = torch.arange(data.n_users)
    with torch.no_grad():
        full = model.full_scores(users)
        mf = tables["users"] @ tables["items"].T + tables["bias"]
        text = tables["text_users"] @ tables["text_items"].T
    assert torch.allclose(full, mf + text, atol=1e-5)


def test_without_the_map_unseen_items_have_zero_rows() -> None:
    model, _, data = _cold_model(text_to_id=False)
    assert model.text_to_id is None
    model.eval()
    with torch.no_grad():
        rows = model._build_tables()["items"][~model.seen_items]
    assert torch.equal(rows, torch.zeros_like(rows))


def test_the_map_starts_at_zero_so_containment_holds_and_it_draws_no_random_numbers() -> None:
    # Zero-initialised: before training it maps every text to 0, as the map-less model's rows.
    model, _, _ = _cold_model()
    assert torch.equal(model.text_to_id.weight, torch.zeros_like(model.text_to_id.weight))
    # Building it takes nothing from the RNG: every other weight is what the map-less model draws.
    plain, _, _ = _cold_model(text_to_id=False)
    for key, value in plain.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_the_map_learns_the_id_space_of_seen_items() -> None:
    # ID rows that are a linear function of the items' text (fixed): the map must find it.
    model, _, data = _cold_model(text_to_id_weight=5.0)
    ids = model.item_tower.ids.table
    with torch.no_grad():
        g = torch.Generator().manual_seed(7)
        target = model.item_tower.project_cached() @ torch.randn(16, 16, generator=g) * 0.3
        ids.weight.copy_(target)
    ids.weight.requires_grad_(False)
    seen = model.seen_items

    def gap() -> float:
        with torch.no_grad():
            mapped = model.text_to_id(model.item_tower.project_cached())[seen]
            return float((mapped - ids.weight[seen]).pow(2).sum(1).mean())

    start = gap()  # the zero map: the rows' own size
    history = _steps(model, data, 60, batch=256)
    assert "text_to_id" in history[0]
    assert history[-1]["text_to_id"] < 0.2 * history[0]["text_to_id"]
    assert gap() < 0.2 * start


@pytest.mark.parametrize("every", [False, True])
def test_with_mf_dropout_dropped_items_train_the_map_through_bpr(every: bool) -> None:
    # No regression term: only BPR on dropped (and unseen) items reaches the map.
    model, _, data = _cold_model(mf_dropout=True, id_dropout=0.5, text_to_id_weight=0.0)
    model.train()
    n = 512 if every else 16
    g = torch.Generator().manual_seed(3)
    batch = Batch(*(torch.randint(0, k, (n,), generator=g) for k in (data.n_users, data.n_items, data.n_items)))
    parts = model.loss(batch)
    assert "text_to_id" not in parts
    parts["total"].backward()
    assert model.text_to_id.weight.grad is not None and model.text_to_id.weight.grad.abs().sum() > 0


def test_a_bad_weight_is_refused_naming_the_field() -> None:
    with pytest.raises(ConfigError, match="text_to_id_weight"):
        EnhancedConfig(**TEXT, text_to_id=True, text_to_id_weight=float("nan"))


def test_checkpoint_round_trip_keeps_the_map() -> None:
    model, ctx, data = _cold_model()
    _steps(model, data, 3)
    state = model.checkpoint_state()
    assert "text_to_id.weight" in state
    again, _, _ = _cold_model()
    again.load_checkpoint_state(state)
    model.eval()
    again.eval()
    users = torch.arange(data.n_users)
    with torch.no_grad():
        assert torch.equal(model.full_scores(users), again.full_scores(users))


def test_containment_over_gpt2rec_holds_with_the_map() -> None:
    # gate 0 and a GPT2Recommender's weights: the zero map adds nothing, scores are that run's.
    base, data, ctx = _trained("gpt2rec", "cold-items")
    enhanced = build_model(EnhancedConfig(**TEXT, base="gpt2rec", gate_init=0.0, text_to_id=True), data)
    enhanced.prepare(ctx)
    enhanced.load_base_weights(base.checkpoint_state())
    enhanced.eval()
    users = torch.arange(data.n_users)
    with torch.no_grad():
        assert torch.equal(enhanced.full_scores(users), base.full_scores(users))


def test_presets_cold_sets_the_map() -> None:
    cfg = EnhancedConfig.from_preset("cold", **TEXT)
    assert cfg.base == "gpt2rec" and cfg.use_attention
    assert dataclasses.replace(cfg, text_to_id=False).text_to_id is False
