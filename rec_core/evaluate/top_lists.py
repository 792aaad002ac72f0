"""Display lists under the evaluation protocol: `top_items` (the top-k items of some users,
ranked exactly as `evaluate` ranks them), `ranking_scores` (the prepared scores and what is
ranked, e.g. for one item's rank) and `top_k` (a top-k whose equal scores are listed by item
index: a display list needs some order, the metrics are tie-aware and do not depend on it).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import Tensor

from rec_core.configs.eval import EvalConfig
from rec_core.data.interactions import InteractionData
from rec_core.errors import RecCoreError
from rec_core.evaluate.task import CandidateMode, Part, RankingTask, mask_seen, prepare_scores, ranking_task
from rec_core.models.base import Recommender
from rec_core.split import Split

__all__ = ["ranking_scores", "top_items", "top_k"]


def _display_task(
    data: InteractionData, split: Split, part: Part, candidates: CandidateMode, users: np.ndarray | Sequence[int] | None
) -> RankingTask:
    """The ranking task of `users` (ascending, deduplicated; default: evaluate's own users)."""
    if users is None:
        return ranking_task(data, split, part, candidates)
    wanted = np.unique(np.asarray(users, dtype=np.int64))
    if len(wanted) and (wanted.min() < 0 or wanted.max() >= data.n_users):
        raise RecCoreError(f"user indices must be in [0, {data.n_users})")
    return RankingTask.build(data, split, part, candidates, users=wanted)


@contextlib.contextmanager
def _scoring(model: Recommender) -> Iterator[None]:
    """Eval mode and inference mode for one scoring pass (a text model builds its user/item
    tables once); the modes of the model's modules are restored afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        scoring = getattr(model, "scoring", None)
        with torch.inference_mode(), scoring() if scoring is not None else contextlib.nullcontext():
            yield
    finally:
        for module, mode in modes:
            module.training = mode


def ranking_scores(
    model: Recommender,
    data: InteractionData,
    split: Split,
    users: np.ndarray | Sequence[int],
    part: Part = "test",
    *,
    candidates: CandidateMode = "auto",
    device: torch.device | str = "cpu",
) -> tuple[np.ndarray, Tensor, Tensor]:
    """What `evaluate` ranks for a few `users` in `part`: (users, scores, ranked).

    users (U,) int64 ascending and deduplicated; scores (U, n_items) the model's scores
    prepared as `evaluate` prepares them (finite, the model's float dtype); ranked (U, n_items)
    bool, False where the ranking leaves an item out (the user's train items, and valid items
    when testing; non-candidates). `scores.masked_fill(~ranked, -inf)` is what evaluate ranks.
    All U rows are held at once.
    """
    task = _display_task(data, split, part, candidates, users)
    device = torch.device(device)
    with _scoring(model):
        non_cand = None if task.non_candidate is None else task.non_candidate.to(device)
        batch = torch.from_numpy(task.users).to(device)
        scores = prepare_scores(model.full_scores(batch), len(task.users), task.n_items)
        masked = scores.clone()
        mask_seen(masked, task, 0, len(task.users), non_cand)
    return task.users, scores, masked > -math.inf


def top_items(
    model: Recommender,
    data: InteractionData,
    split: Split,
    users: np.ndarray | Sequence[int] | None = None,
    k: int = 10,
    part: Part = "test",
    config: EvalConfig = EvalConfig(),
    *,
    candidates: CandidateMode = "auto",
    device: torch.device | str = "cpu",
) -> tuple[np.ndarray, np.ndarray]:
    """The top-k items of `users` ranked exactly as `evaluate` ranks `part`: the same
    candidates, the same masked items (train, and valid when testing), the same prepared
    scores; equal scores listed by item index (`top_k`: a display list needs some order, the
    metrics are tie-aware and do not depend on it).

    `users` default to the users `evaluate` scores (those with ground truth in `part`); others
    may be given (a user without test items still gets a list). Returns (users, items):
    users (U,) int64 ascending and deduplicated, items (U, k) int64, -1 where fewer than k
    items can be ranked. Modes of the model's modules are restored afterwards.
    """
    task = _display_task(data, split, part, candidates, users)
    device = torch.device(device)
    k_list = min(k, task.n_items)
    out = np.full((len(task.users), k), -1, dtype=np.int64)
    with _scoring(model):
        non_cand = None if task.non_candidate is None else task.non_candidate.to(device)
        for a in range(0, len(task.users), config.chunk_size):
            b = min(a + config.chunk_size, len(task.users))
            batch = torch.from_numpy(task.users[a:b]).to(device)
            scores = prepare_scores(model.full_scores(batch), b - a, task.n_items)
            mask_seen(scores, task, a, b, non_cand)
            vals, idx = top_k(scores, k_list)
            idx[vals == -math.inf] = -1  # nothing left to rank: fewer than k items
            out[a:b, :k_list] = idx.cpu().numpy()
    return task.users, out


def top_k(scores: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """Top k of each row ordered by (score desc, item index asc): values and indices (B, k).

    `torch.topk` is ~10x faster than a full sort but leaves the order of equal scores
    unspecified. Inside its k the order is fixed by two small sorts; an equal-score group cut
    by the k-th place may have lost lower-index members, so only those rows are fully sorted
    (stable, so equal scores keep index order).
    """
    vals, idx = torch.topk(scores, k, dim=1, largest=True, sorted=False)
    idx, perm = torch.sort(idx, dim=1)
    vals, perm2 = torch.sort(vals.gather(1, perm), dim=1, descending=True, stable=True)
    idx = idx.gather(1, perm2)
    kth = vals[:, -1:]
    cut = (scores == kth).sum(1) > (vals == kth).sum(1)  # (B,) some of the k-th group left out
    if bool(cut.any()):
        rows = cut.nonzero().squeeze(1)
        v, i = torch.sort(scores[rows], dim=1, descending=True, stable=True)
        vals[rows], idx[rows] = v[:, :k], i[:, :k]
    return vals, idx
