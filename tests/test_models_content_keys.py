"""Attention that reads content (issue "The seed's model wins where text matters", item 6):
with `content_keys` the cross-attention's keys are only the tokens of field values, so special
tokens and template words ("Genres:", "year", "old") get exactly no weight; the Attention page
reads the share of attention on content (`Explanation.content_share`)."""

from __future__ import annotations

import pytest
import torch

from rec_core.models.base import TrainContext
from rec_core.models.enhanced import EnhancedConfig, GPT2RecommenderEnhanced
from rec_core.models.registry import build_model
from rec_core.text.tokens import SPECIAL, TEMPLATE, content_mask
from tests.helpers import split_of, synthetic

TEXT = {"backbone": "tiny-gpt2", "max_length": 32, "embed_dim": 16, "n_heads": 2}


def _model(content_keys: bool) -> GPT2RecommenderEnhanced:
    data = synthetic()
    split = split_of(data, "cold-items")
    torch.manual_seed(0)
    model = build_model(EnhancedConfig(**TEXT, content_keys=content_keys), data)
    assert isinstance(model, GPT2RecommenderEnhanced)
    model.prepare(TrainContext(data.n_users, data.n_items, data.users[split.train], data.items[split.train]))
    return model.eval()


@pytest.mark.parametrize("side", ["item", "user"])
def test_content_keys_put_no_weight_on_special_tokens_or_template_words(side: str) -> None:
    model = _model(True)
    for k in range(5):
        ex = model.explain_item(k) if side == "item" else model.explain_user(k)
        glue = [j for j, f in enumerate(ex.fields) if f in (SPECIAL, TEMPLATE)]
        assert glue, "the synthetic texts have template words"
        assert float(ex.weights[:, glue].sum()) == 0.0
        assert ex.content_share() == pytest.approx(1.0)
    plain = _model(False).explain_item(0)
    assert plain.content_share() < 1.0  # without the restriction glue gets weight


def test_content_mask_marks_field_tokens_only() -> None:
    model = _model(False)
    table = model.item_table
    mask = content_mask(model.encoder, table, model.item_tower.text.mask.shape[1])
    for k in range(5):
        labels = model.encoder.token_labels(table, k)
        expected = [f not in (SPECIAL, TEMPLATE) for _, f in labels]
        assert mask[k, : len(labels)].tolist() == expected
        assert not mask[k, len(labels) :].any()


def test_content_keys_change_scores_and_train() -> None:
    a, b = _model(True), _model(False)
    users = torch.arange(a.n_users)
    with torch.no_grad():
        assert not torch.equal(a.full_scores(users), b.full_scores(users))
