"""rec_core.analysis.pair_rank: a user-item pair's rank is the one `evaluate` gives it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rec_core.analysis import pair_rank
from rec_core.evaluate import evaluate
from rec_core.models.base import TrainContext
from rec_core.models.mf import MF, MFConfig
from rec_core.models.popularity import Popularity, PopularityConfig
from tests.helpers import split_of, synthetic


def _fitted(model, data, split):
    model.prepare(TrainContext(data.n_users, data.n_items, data.users[split.train], data.items[split.train]))
    return model.eval()


@pytest.mark.parametrize("kind", ["ratio", "cold-items"])
def test_the_rank_of_every_test_item_is_evaluates_rank(kind: str) -> None:
    data = synthetic()
    split = split_of(data, kind)
    torch.manual_seed(0)
    models = [_fitted(MF(data.n_users, data.n_items, MFConfig(embed_dim=8)), data, split)]
    if kind == "ratio":  # popularity scores many items alike: mid-ranks (x.5) inside ties
        models.append(_fitted(Popularity(data.n_users, data.n_items, PopularityConfig()), data, split))
    for model in models:
        ranks = evaluate(model, data, split, "test", with_ranks=True).ranks
        assert ranks is not None
        for row in ranks.head(60).itertuples():
            got = pair_rank(model, data, split, int(row.user), int(row.item))
            assert got.reason is None and got.rank is not None and got.rank == pytest.approx(float(row.rank))
            assert 1 <= got.rank <= got.n_ranked < data.n_items


def test_masked_and_non_candidate_items_have_no_rank() -> None:
    data = synthetic()
    split = split_of(data, "cold-items")
    model = _fitted(MF(data.n_users, data.n_items, MFConfig(embed_dim=8)), data, split)
    user = int(data.users[split.train[0]])
    own = int(data.items[split.train[0]])
    assert pair_rank(model, data, split, user, own).reason == "train"
    cand = set(np.asarray(split.candidates("test")).tolist())
    owned = set(data.items[split.train[data.users[split.train] == user]].tolist())
    other = next(i for i in range(data.n_items) if i not in cand and i not in owned)
    got = pair_rank(model, data, split, user, other)
    assert got.rank is None and got.reason in ("not_candidate", "valid")
