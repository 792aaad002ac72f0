"""The ranking task of full-ranking evaluation: what one (split, part, candidate mode) ranking
ranks, masks and counts as ground truth, built once per split as CSR index arrays and cached
(`ranking_task`), and the two steps every scoring pass applies to a model's scores: made finite
(`prepare_scores`) and masked (`mask_seen`). Used by `evaluate` and by the display lists in
`top_lists`.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from rec_core.data.interactions import InteractionData
from rec_core.errors import ConfigError, DataError, RecCoreError
from rec_core.evaluate.segments import ITEM_SEGMENTS, item_segments
from rec_core.split import Split

__all__ = ["CandidateMode", "Part", "RankingTask", "mask_seen", "prepare_scores", "ranking_task"]

Part = Literal["valid", "test"]
CandidateMode = Literal["auto", "all"]


def _csr(pos: np.ndarray, items: np.ndarray, n_rows: int, n_items: int) -> tuple[np.ndarray, Tensor, Tensor]:
    """Deduplicated (row, item) pairs sorted by row: pointers (n_rows + 1,), rows, items."""
    key = np.unique(pos.astype(np.int64) * n_items + items.astype(np.int64))
    rows, cols = key // n_items, key % n_items
    ptr = np.zeros(n_rows + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(rows, minlength=n_rows))
    return ptr, torch.from_numpy(rows), torch.from_numpy(cols)


@dataclass(frozen=True, eq=False)
class RankingTask:
    """Everything one (split, part, candidate mode) ranking needs, built once and reused.

    Positions 0..E-1 index the evaluated users: those with >= 1 ground-truth item among the
    ranked candidates (or the users `build` was given, for display lists: `top_items`). The
    trainer evaluates valid every epoch; `ranking_task` caches these.
    """

    part: str
    candidates: str  # "all" or "cold"
    n_items: int
    users: np.ndarray  # (E,) int64 evaluated user indices, ascending
    n_train: np.ndarray  # (E,) int64 training interactions per evaluated user
    n_relevant: np.ndarray  # (E,) int64 ground-truth items per evaluated user
    mask_ptr: np.ndarray  # (E + 1,) CSR pointers into mask_pos / mask_items
    mask_pos: Tensor  # (n_mask,) int64 user position of each masked (user, item) pair
    mask_items: Tensor  # (n_mask,) int64 masked item: train, and valid when testing
    gt_ptr: np.ndarray  # (E + 1,) CSR pointers into gt_pos / gt_items
    gt_pos: Tensor  # (n_gt,) int64
    gt_items: Tensor  # (n_gt,) int64
    non_candidate: Tensor | None  # (n_items,) bool, True outside the ranking; None: all ranked
    n_candidates: int
    item_segment: Tensor  # (n_items,) int64 code into ITEM_SEGMENTS (training popularity)
    relevant_per_segment: np.ndarray  # (E, len(ITEM_SEGMENTS)) ground-truth items per segment
    candidate_items_per_segment: np.ndarray  # (len(ITEM_SEGMENTS),)

    @classmethod
    def build(
        cls,
        data: InteractionData,
        split: Split,
        part: Part,
        candidates: CandidateMode = "auto",
        users: np.ndarray | None = None,
    ) -> RankingTask:
        """Precompute masks and ground truth of `part` as CSR index arrays, for the users with
        ground truth, or for `users` (ascending, unique, in range) with or without it."""
        if part not in ("valid", "test"):
            raise ConfigError("part", f"must be 'valid' or 'test', got {part!r}")
        if candidates not in ("auto", "all"):
            raise ConfigError("candidates", f"must be 'auto' or 'all', got {candidates!r}")
        n_items = data.n_items
        cand = split.candidates(part) if candidates == "auto" else None
        is_cand = np.ones(n_items, dtype=bool)
        if cand is not None:
            cand = np.asarray(cand)
            # Fail loudly: an empty or non-integer candidate set would silently evaluate no one.
            if cand.dtype.kind not in "iu" or cand.ndim != 1 or cand.size == 0:
                raise DataError(
                    "candidates",
                    f"split.candidates({part!r}) must be a non-empty 1-d integer "
                    f"array of item indices or None, got {cand!r:.80}",
                )
            is_cand[:] = False
            is_cand[cand] = True
        gt_rows = split.valid if part == "valid" else split.test
        gt_u, gt_i = data.users[gt_rows], data.items[gt_rows]
        # An item outside the candidates can never be ranked, so it is not ground truth; with
        # the cold-items split every held-out row is a candidate and nothing is dropped.
        keep = is_cand[gt_i]
        gt_u, gt_i = gt_u[keep], gt_i[keep]
        users = np.unique(gt_u).astype(np.int64) if users is None else np.asarray(users, dtype=np.int64)
        pos_of = np.full(data.n_users, -1, dtype=np.int64)
        pos_of[users] = np.arange(len(users))
        keep = pos_of[gt_u] >= 0  # all of them unless `users` was given
        gt_u, gt_i = gt_u[keep], gt_i[keep]

        mask_rows = split.train if part == "valid" else np.concatenate([split.train, split.valid])
        m_u, m_i = data.users[mask_rows], data.items[mask_rows]
        keep = (pos_of[m_u] >= 0) & is_cand[m_i]  # non-candidates are masked wholesale anyway
        mask_ptr, mask_pos, mask_items = _csr(pos_of[m_u[keep]], m_i[keep], len(users), n_items)
        gt_ptr, gt_pos, gt_items = _csr(pos_of[gt_u], gt_i, len(users), n_items)

        train_counts = np.bincount(data.items[split.train], minlength=n_items)
        labels = item_segments(train_counts)
        n_seg = len(ITEM_SEGMENTS)
        codes = np.zeros(n_items, dtype=np.int64)
        for code, seg in enumerate(ITEM_SEGMENTS):
            codes[labels == seg] = code
        rel_seg = np.bincount(gt_pos.numpy() * n_seg + codes[gt_items.numpy()], minlength=len(users) * n_seg).reshape(
            len(users), n_seg
        )
        return cls(
            part=part,
            candidates="cold" if cand is not None else "all",
            n_items=n_items,
            users=users,
            n_train=np.bincount(data.users[split.train], minlength=data.n_users)[users].astype(np.int64),
            n_relevant=np.diff(gt_ptr),
            mask_ptr=mask_ptr,
            mask_pos=mask_pos,
            mask_items=mask_items,
            gt_ptr=gt_ptr,
            gt_pos=gt_pos,
            gt_items=gt_items,
            non_candidate=None if cand is None else torch.from_numpy(~is_cand),
            n_candidates=int(is_cand.sum()),
            item_segment=torch.from_numpy(codes),
            relevant_per_segment=rel_seg,
            candidate_items_per_segment=np.bincount(codes[is_cand], minlength=n_seg),
        )


# Tasks per split (weak, so a dropped split frees its arrays), then per (part, candidate mode).
# The data object is checked by identity too: the same split over other data must not reuse.
_TASKS: weakref.WeakKeyDictionary[Split, dict[tuple[str, str], tuple[weakref.ref, RankingTask]]] = (
    weakref.WeakKeyDictionary()
)


def ranking_task(data: InteractionData, split: Split, part: Part, candidates: CandidateMode = "auto") -> RankingTask:
    """The cached `RankingTask` of (data, split, part, candidates), built on first use."""
    per_split = _TASKS.setdefault(split, {})
    cached = per_split.get((part, candidates))
    if cached is not None and cached[0]() is data:
        return cached[1]
    task = RankingTask.build(data, split, part, candidates)
    per_split[(part, candidates)] = (weakref.ref(data), task)
    return task


def mask_seen(scores: Tensor, task: RankingTask, a: int, b: int, non_candidate: Tensor | None = None) -> None:
    """Set to -inf, in place, what the ranking of `task` leaves out for its users a..b-1 (the
    rows of `scores`): non-candidate items (`non_candidate`, task.non_candidate on the scores'
    device) and each user's masked items (train, and valid when testing)."""
    if non_candidate is not None:
        scores.masked_fill_(non_candidate, -math.inf)
    lo, hi = task.mask_ptr[a], task.mask_ptr[b]
    device = scores.device
    scores[(task.mask_pos[lo:hi] - a).to(device), task.mask_items[lo:hi].to(device)] = -math.inf


def prepare_scores(scores: Tensor, n_users: int, n_items: int) -> Tensor:
    """A finite copy of the model's (B, n_items) scores, ready for in-place masking."""
    if tuple(scores.shape) != (n_users, n_items):
        raise RecCoreError(f"full_scores returned shape {tuple(scores.shape)}, expected ({n_users}, {n_items})")
    if not scores.is_floating_point():
        scores = scores.float()
    if bool(torch.isnan(scores).any()):
        raise RecCoreError("full_scores returned NaN scores; the model has diverged or is broken")
    # clamp() copies (models may return views of their own buffers, which masking must not
    # touch) and maps +-inf to finite extremes, keeping the order, so that -inf marks masked
    # items only and a masked item never outranks a ranked one.
    info = torch.finfo(scores.dtype)
    return scores.clamp(min=info.min, max=info.max)
