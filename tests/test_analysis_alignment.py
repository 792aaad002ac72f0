"""rec_core.analysis.alignment: the ID and text views of one side in one space, and how close
each entity's two vectors are (the Embeddings page's "aligned" layout)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rec_core.analysis import entity_attributes
from rec_core.analysis.alignment import aligned_spaces, entity_cosines, mean_by_group, stacked_unit_rows
from rec_core.models.base import TrainContext
from rec_core.models.enhanced import EnhancedConfig
from rec_core.models.mf import MFConfig
from rec_core.models.registry import build_model
from tests.helpers import split_of, synthetic


def test_cosines_and_group_means_by_hand() -> None:
    ids = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0], [0.0, 0.0]])
    texts = np.array([[2.0, 0.0], [0.0, -1.0], [1.0, 1.0], [1.0, 0.0]])
    stacked = stacked_unit_rows(ids, texts)
    assert stacked.shape == (8, 2) and stacked.dtype == np.float32
    assert np.allclose(np.linalg.norm(stacked[:3], axis=1), 1.0) and np.allclose(stacked[3], 0.0)  # zero row stays
    assert np.allclose(stacked[4:], texts / np.linalg.norm(texts, axis=1, keepdims=True))
    cos = entity_cosines(ids, texts)
    assert np.allclose(cos, [1.0, -1.0, math.sqrt(0.5), 0.0])
    means = mean_by_group(cos, ["warm", "warm", "cold", "cold"])
    assert list(means) == ["warm", "cold"]
    assert means["warm"] == pytest.approx(0.0) and means["cold"] == pytest.approx(math.sqrt(0.5) / 2)
    with pytest.raises(ValueError):
        stacked_unit_rows(ids, texts[:, :1])
    with pytest.raises(ValueError):
        mean_by_group(cos, ["warm"])


def test_an_enhanced_model_has_both_views_in_one_space_and_mf_has_none() -> None:
    data = synthetic()
    split = split_of(data, "cold-items")
    ctx = TrainContext(data.n_users, data.n_items, data.users[split.train], data.items[split.train])
    torch.manual_seed(0)
    model = build_model(
        EnhancedConfig(backbone="tiny-gpt2", max_length=32, embed_dim=16, n_heads=2, text_to_id=True), data
    )
    model.prepare(ctx)
    model.eval()
    found = aligned_spaces(model, "item")
    assert found is not None and found.n == data.n_items
    assert found.stacked.shape == (2 * data.n_items, 16) and np.isfinite(found.stacked).all()
    with torch.no_grad():
        ids, texts = model.item_embeddings("id").numpy(), model.item_embeddings("text").numpy()
    assert np.allclose(found.cosine, entity_cosines(ids, texts), atol=1e-6)
    assert np.all(np.abs(found.cosine) <= 1.0 + 1e-5)
    warmth = entity_attributes(data, split, "item")["warmth"]
    means = mean_by_group(found.cosine, warmth)
    assert set(means) == {"warm", "cold"} and all(math.isfinite(v) for v in means.values())

    mf = build_model(MFConfig(embed_dim=8), data)
    assert aligned_spaces(mf, "item") is None
