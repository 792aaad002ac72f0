"""Where one item lands in one user's ranking: the rank `evaluate` would give it.

The Attention page shows a user-item score; a score alone means nothing to a reader, its rank
among the user's candidates does. The ranking is the test part's (PROTOCOL.md): every item, or
a cold-items split's held-out candidates, with the user's training and validation items masked;
the rank is the expected rank under random tie-breaking, computed by `evaluate`'s own mid-rank
function on the scores prepared as `evaluate` prepares them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from rec_core.data.interactions import InteractionData
from rec_core.errors import RecCoreError
from rec_core.evaluate.ranking import _mid_ranks, _prepare_scores
from rec_core.split import Split

__all__ = ["PairRank", "pair_rank"]

Reason = Literal["train", "valid", "not_candidate"]


@dataclass(frozen=True)
class PairRank:
    """An item's place in a user's test ranking.

    `rank` is 1-based (x.5 inside an even tie) among `n_ranked` items; None when the item is
    not ranked for this user: `reason` "train" or "valid" (the user's own item, masked) or
    "not_candidate" (a cold-items split ranks its held-out items only). `score` is the model's
    score of the pair."""

    rank: float | None
    n_ranked: int
    score: float
    reason: Reason | None = None


def pair_rank(model: Any, data: InteractionData, split: Split, user: int, item: int) -> PairRank:
    """The test ranking's rank of `item` for `user` (see the module docstring)."""
    if not (0 <= user < data.n_users and 0 <= item < data.n_items):
        raise RecCoreError(f"user {user} or item {item} out of range ({data.n_users} users, {data.n_items} items)")
    cand = split.candidates("test")
    train = data.items[split.train[data.users[split.train] == user]]
    valid = data.items[split.valid[data.users[split.valid] == user]]
    masked = np.unique(np.concatenate([train, valid])).astype(np.int64)
    was = model.training
    model.eval()
    try:
        with torch.inference_mode():
            scores = _prepare_scores(model.full_scores(torch.tensor([int(user)])), 1, data.n_items)
            score = float(scores[0, item])
            if cand is not None:
                outside = np.ones(data.n_items, dtype=bool)
                outside[np.asarray(cand)] = False
                scores[0, torch.from_numpy(outside)] = -math.inf
            scores[0, torch.from_numpy(masked)] = -math.inf
            n_ranked = int((scores[0] > -math.inf).sum())
            rank = float(_mid_ranks(scores, torch.tensor([0]), scores[0, item:item + 1])[0])
    finally:
        model.train(was)
    reason: Reason | None = None
    if item in set(train.tolist()):
        reason = "train"
    elif item in set(valid.tolist()):
        reason = "valid"
    elif cand is not None and item not in set(np.asarray(cand).tolist()):
        reason = "not_candidate"
    return PairRank(None if reason is not None else rank, n_ranked, score, reason)
