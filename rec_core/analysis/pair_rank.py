"""Where one item lands in one user's ranking: the rank `evaluate` would give it.

The Attention page shows a user-item score; a score alone means nothing to a reader, its rank
among the user's candidates does. The ranking is the test part's (PROTOCOL.md): every item, or
a cold-items split's held-out candidates, with the user's training and validation items masked;
the rank is the expected rank under random tie-breaking, computed by `evaluate`'s own mid-rank
function on the scores and masks `evaluate` ranks (`rec_core.evaluate.ranking_scores`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from rec_core.data.interactions import InteractionData
from rec_core.errors import RecCoreError
from rec_core.evaluate.ranking import ranking_scores
from rec_core.evaluate.ties import mid_ranks
from rec_core.split import Split

__all__ = ["PairRank", "pair_rank", "ranked_test_pair"]

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
    _, scores, ranked = ranking_scores(model, data, split, [int(user)], "test")
    score = float(scores[0, item])
    masked = scores.masked_fill(~ranked, -math.inf)
    n_ranked = int(ranked[0].sum())
    rank = float(mid_ranks(masked, torch.tensor([0]), masked[0, item : item + 1])[0])
    reason: Reason | None = None
    if item in set(train.tolist()):
        reason = "train"
    elif item in set(valid.tolist()):
        reason = "valid"
    elif cand is not None and item not in set(np.asarray(cand).tolist()):
        reason = "not_candidate"
    return PairRank(None if reason is not None else rank, n_ranked, score, reason)


def ranked_test_pair(data: InteractionData, split: Split) -> tuple[int, int]:
    """(user, item) a page can open on with a rank to show: the first user, by index, holding a
    test item that the test ranking ranks, and the first such item (a pair of user 0 and item 0
    is usually a training interaction: masked, "not ranked"). (0, 0) when there is none."""
    test = np.asarray(split.test)
    if len(test) == 0:
        return 0, 0
    users, items = data.users[test], data.items[test]
    cand = split.candidates("test")
    if cand is not None:
        keep = np.isin(items, np.asarray(cand))
        users, items = users[keep], items[keep]
    if len(users) == 0:
        return 0, 0
    order = np.lexsort((items, users))  # by user, then item
    return int(users[order[0]]), int(items[order[0]])
