"""No leakage on a cold-items split: held-out items shape neither the text features' statistics
nor the training negatives; on a split where every item has training interactions nothing
changes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from rec_core.data import InteractionData
from rec_core.data.interactions import TextTable
from rec_core.models.base import Batch, Recommender, TrainContext
from rec_core.models.enhanced import EnhancedConfig, GPT2RecommenderEnhanced
from rec_core.models.gpt2rec import GPT2RecConfig, GPT2Recommender
from rec_core.models.mf import MF, MFConfig
from rec_core.split import Split
from rec_core.train import NegativeSampler, TrainConfig, Trainer
from tests.helpers import split_of, synthetic


def _built(kind: str, data: InteractionData) -> Recommender:
    """A tiny text model (tiny GPT-2 backbone) of `data`, not prepared."""
    if kind == "gpt2rec":
        cfg = GPT2RecConfig(backbone="tiny-gpt2", max_length=32, embed_dim=16)
        return GPT2Recommender(data.n_users, data.n_items, cfg, dataset=data)
    enhanced = EnhancedConfig(backbone="tiny-gpt2", max_length=32, embed_dim=16, n_heads=2)
    return GPT2RecommenderEnhanced(data.n_users, data.n_items, enhanced, dataset=data)


def _held_out(data: InteractionData, split: Split) -> np.ndarray:
    """Items without a training interaction (the cold-items split's held-out items)."""
    return np.setdiff1d(np.arange(data.n_items), data.items[split.train])


def _with_item_text(data: InteractionData, item: int, text: str) -> InteractionData:
    texts = list(data.item_text.texts)
    spans = list(data.item_text.spans)
    texts[item], spans[item] = text, (("title", 0, len(text)),)
    return dataclasses.replace(data, item_text=TextTable(tuple(texts), tuple(spans)))


def _prepared(kind: str, data: InteractionData, split: Split) -> Recommender:
    torch.manual_seed(0)
    model = _built(kind, data)
    model.prepare(TrainContext(data.n_users, data.n_items, data.users[split.train], data.items[split.train]))
    return model


def _item_features(model: Recommender) -> dict[str, torch.Tensor]:
    """What the item side's text statistics produce: standardised features (GPT2Recommender),
    or the PCA map and the reduced token states (Enhanced)."""
    if isinstance(model, GPT2Recommender):
        assert model.item_tower.meta is not None
        return {"meta": model.item_tower.meta}
    assert isinstance(model, GPT2RecommenderEnhanced) and model.item_tower.text is not None
    text = model.item_tower.text
    return {"pca_mean": text.pca_mean, "pca_axes": text.pca_axes, "reduced": text.reduced}


@pytest.mark.parametrize("kind", ["gpt2rec", "enhanced"])
def test_a_held_out_items_text_does_not_shape_the_text_statistics(kind: str) -> None:
    data = synthetic()
    split = split_of(data, "cold-items")
    cold = int(_held_out(data, split)[0])
    changed = _with_item_text(data, cold, "Zebra Opera Unfolding (2031). Genres: Documentary, Musical, Western.")
    before = _item_features(_prepared(kind, data, split))
    after = _item_features(_prepared(kind, changed, split))
    seen = torch.ones(data.n_items, dtype=torch.bool)
    seen[torch.as_tensor(_held_out(data, split))] = False
    for name in before:
        if name in ("meta", "reduced"):  # per-item rows: the other items' rows are unchanged
            assert torch.equal(before[name][seen], after[name][seen]), name
            assert not torch.equal(before[name][cold], after[name][cold]), name  # its own row did change
        else:  # the fitted map itself
            assert torch.equal(before[name], after[name]), name


@pytest.mark.parametrize("kind", ["gpt2rec", "enhanced"])
def test_with_every_entity_in_train_the_statistics_are_those_of_all_entities(kind: str) -> None:
    data = synthetic()
    split = split_of(data, "ratio")
    assert len(_held_out(data, split)) == 0  # every item has a training interaction here
    torch.manual_seed(0)
    built = _prepared(kind, data, split)
    fresh = _built(kind, data)  # not prepared: statistics over every entity, as before the fix
    for name, value in _item_features(built).items():
        assert torch.equal(value, _item_features(fresh)[name]), name


def test_a_reloaded_gpt2recommender_standardises_with_its_training_items() -> None:
    data = synthetic()
    split = split_of(data, "cold-items")
    model = _prepared("gpt2rec", data, split)
    assert isinstance(model, GPT2Recommender)
    fresh = _built("gpt2rec", data)
    assert isinstance(fresh, GPT2Recommender)
    fresh.load_checkpoint_state(model.checkpoint_state())
    assert fresh.item_tower.meta is not None and model.item_tower.meta is not None
    assert torch.equal(fresh.item_tower.meta, model.item_tower.meta)


class _RecordingMF(MF):
    """MF that keeps every negative item the trainer gave it."""

    def __init__(self, n_users: int, n_items: int) -> None:
        super().__init__(n_users, n_items, MFConfig(embed_dim=8))
        self.negatives: list[torch.Tensor] = []

    def loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        self.negatives.append(batch.neg_items.detach().cpu())
        return super().loss(batch)


def test_training_never_draws_a_held_out_item_as_a_negative() -> None:
    data = synthetic()
    split = split_of(data, "cold-items")
    held = _held_out(data, split)
    assert len(held) > 0
    model = _RecordingMF(data.n_users, data.n_items)
    Trainer(model, data, split, TrainConfig(epochs=5, batch_size=256, device="cpu", patience=0)).fit()
    drawn = torch.cat(model.negatives).numpy()
    assert len(drawn) == 5 * len(data.items[split.train])  # one negative per training triple and epoch
    assert not np.isin(drawn, held).any()
    # Every item with training interactions can be drawn (the pool is not cut further).
    assert set(np.unique(drawn)) == set(np.unique(data.items[split.train]))


def test_negatives_are_a_plain_uniform_draw_when_every_item_is_in_train() -> None:
    # Items 0-4 all have training interactions; user 7 has none (past the table): nothing is
    # rejected, so the draws are exactly torch.randint's over all items, as before the pool.
    sampler = NegativeSampler(np.array([0, 0, 1, 1, 2]), np.array([0, 1, 2, 3, 4]), 5)
    users = torch.full((500,), 7, dtype=torch.int64)
    got = sampler.sample(users, torch.Generator().manual_seed(3))
    assert torch.equal(got, torch.randint(0, 5, (500,), generator=torch.Generator().manual_seed(3)))
    # Item 4 without a training interaction: never drawn, and the rest are.
    pooled = NegativeSampler(np.array([0, 0, 1, 1]), np.array([0, 1, 2, 3]), 5)
    drawn = pooled.sample(users, torch.Generator().manual_seed(3))
    assert set(drawn.tolist()) == {0, 1, 2, 3}
    # A user whose only free item would be the held-out one gets a training item he has not seen.
    crowded = NegativeSampler(np.array([0, 0, 0, 1]), np.array([0, 1, 2, 3]), 5)
    assert set(crowded.sample(torch.zeros(200, dtype=torch.int64), torch.Generator().manual_seed(0)).tolist()) == {3}
