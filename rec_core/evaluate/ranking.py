"""Full-ranking evaluation (PROTOCOL.md): per user, every item (or the split's candidates) is
ranked with the user's training items masked (and validation items when testing), metrics are
computed per user and averaged over the users that have ground truth in the part.

Ties are not broken: every metric is its expected value over all orderings of each group of
equally scored items (tie-aware metrics, McSherry and Najork 2008), exact and deterministic.
MovieLens ids follow popularity, so breaking ties by item index would hand a model that scores
many items alike (MF and Popularity on cold items) a popularity ranking for free. Each result
also carries the exact expected metrics of a uniformly random ranking (`EvalResult.random`).
`top_k` (display lists of the analysis pages) orders ties by index, and says so; `top_items`
gives those lists under exactly this protocol (same candidates, masks and scores), and
`ranking_scores` the scores and what is ranked (an item's rank for one user).
"""

from __future__ import annotations

import contextlib
import math
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from rec_core import distributed
from rec_core.configs.eval import EvalConfig
from rec_core.data.interactions import InteractionData
from rec_core.errors import ConfigError, DataError, RecCoreError
from rec_core.evaluate.metrics import METRIC_NAMES, expected_metrics
from rec_core.evaluate.ties import TieStats
from rec_core.evaluate.segments import (
    ITEM_SEGMENTS,
    item_segment_metrics,
    item_segments,
    user_segment_metrics,
)
from rec_core.models.base import Recommender
from rec_core.split import Split

__all__ = [
    "EvalConfig",
    "EvalResult",
    "RankingTask",
    "evaluate",
    "evaluate_all",
    "random_metrics",
    "ranking_task",
    "ranking_scores",
    "top_items",
    "top_k",
]

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


def _mask_seen(scores: Tensor, task: RankingTask, a: int, b: int, non_candidate: Tensor | None = None) -> None:
    """Set to -inf, in place, what the ranking of `task` leaves out for its users a..b-1 (the
    rows of `scores`): non-candidate items (`non_candidate`, task.non_candidate on the scores'
    device) and each user's masked items (train, and valid when testing)."""
    if non_candidate is not None:
        scores.masked_fill_(non_candidate, -math.inf)
    lo, hi = task.mask_ptr[a], task.mask_ptr[b]
    device = scores.device
    scores[(task.mask_pos[lo:hi] - a).to(device), task.mask_items[lo:hi].to(device)] = -math.inf


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
        scores = _prepare_scores(model.full_scores(batch), len(task.users), task.n_items)
        masked = scores.clone()
        _mask_seen(masked, task, 0, len(task.users), non_cand)
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
            scores = _prepare_scores(model.full_scores(batch), b - a, task.n_items)
            _mask_seen(scores, task, a, b, non_cand)
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


@dataclass(frozen=True, eq=False)
class EvalResult:
    """The result of ranking one part for every evaluated user.

    `metrics` are means over the `n_users` evaluated users of each user's tie-aware (expected)
    metric; `per_user` has one row per such user (user, n_relevant, n_train, then one column
    per metric); `ranks` (with_ranks only) gives the expected 1-based rank of every ground-truth
    item among the ranked, unmasked candidates (a mid-rank: x.5 inside an even tie).
    `user` and `item` columns hold indices into `data.user_ids` / `data.item_ids`.
    """

    part: str
    metrics: dict[str, float]  # {"ndcg@10": mean, ...}
    coverage: dict[str, float]  # {"coverage@10": expected share of candidates in at least one top-10}
    per_user: pd.DataFrame
    segments: dict[str, dict[str, float]]  # item popularity segments, then user activity groups
    ranks: pd.DataFrame | None  # columns user, item, rank
    n_users: int
    candidates: str  # "all" or "cold"
    # Exact expected metrics of a uniformly random ranking of the same candidates (same users,
    # masks and ground truth): the floor every model should clear ("x times random").
    random: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary (NaN -> None); per_user and ranks are tables, stored separately."""
        return {
            "part": self.part,
            "candidates": self.candidates,
            "n_users": self.n_users,
            "metrics": _json_floats(self.metrics),
            "random": _json_floats(self.random),
            "coverage": _json_floats(self.coverage),
            "segments": {name: _json_floats(seg) for name, seg in self.segments.items()},
        }


def _json_floats(d: dict[str, float]) -> dict[str, float | int | None]:
    # Strict JSON has no NaN; a segment without users reports None.
    return {k: (v if isinstance(v, int) else (float(v) if math.isfinite(v) else None)) for k, v in d.items()}


def _prepare_scores(scores: Tensor, n_users: int, n_items: int) -> Tensor:
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


def chunk_users(n_items: int, config: EvalConfig) -> int:
    """Users scored at once: `config.chunk_size`, fewer when their (users x items) scores and
    the evaluation's temporaries (about four such matrices) would pass `config.memory_mb`."""
    per_user = 4 * 4 * max(1, n_items)  # bytes: float32 scores plus comparisons and top-k copies
    return max(1, min(config.chunk_size, int(config.memory_mb * 2**20) // per_user))


def evaluate(
    model: Recommender,
    data: InteractionData,
    split: Split,
    part: Part,
    config: EvalConfig = EvalConfig(),
    *,
    candidates: CandidateMode = "auto",
    with_ranks: bool = False,
    device: torch.device | str = "cpu",
) -> EvalResult:
    """Full-ranking evaluation of `model` on `part` (PROTOCOL.md), tie-aware.

    candidates="auto" ranks the split's candidates of `part` when it has them (cold-items:
    the held-out items), else every item; "all" always ranks every item. The model must live
    on `device`; it is called in eval mode under inference_mode, `config.chunk_size` users at
    a time, and its train/eval modes are restored afterwards. A part without ground truth
    gives n_users 0 and NaN metrics.

    Ties: every metric (and coverage) is its expected value over all orderings of each group
    of equally scored items (McSherry and Najork 2008), so a model that scores many items alike
    neither gains nor loses by the order of the item ids. `EvalResult.random` holds the exact
    expected metrics of a uniformly random ranking of the same candidates.
    """
    task = ranking_task(data, split, part, candidates)
    device = torch.device(device)
    n_users, k_max = len(task.users), max(config.ks)
    k_list = min(k_max, task.n_items)  # a catalogue shorter than K gives shorter lists
    stats = TieStats(task, config.ks, with_ranks)
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        # One scoring pass: a text model builds its user/item tables once for all chunks.
        scoring = getattr(model, "scoring", None)
        with torch.inference_mode(), scoring() if scoring is not None else contextlib.nullcontext():
            non_cand = None if task.non_candidate is None else task.non_candidate.to(device)
            chunk = chunk_users(task.n_items, config)
            rank, world = distributed.current()
            # Several processes (torchrun): chunks are dealt out to the ranks, then gathered.
            for a in list(range(0, n_users, chunk))[rank::world]:
                b = min(a + chunk, n_users)
                users = torch.from_numpy(task.users[a:b]).to(device)
                scores = _prepare_scores(model.full_scores(users), b - a, task.n_items)
                _mask_seen(scores, task, a, b, non_cand)
                stats.add_chunk(scores, a, b, k_list)
            if world > 1:
                stats.gather()
            return _result(task, config, stats)
    finally:
        for module, mode in modes:
            module.training = mode


def random_metrics(
    task: RankingTask, ks: tuple[int, ...], names: tuple[str, ...] = METRIC_NAMES
) -> dict[str, np.ndarray]:
    """Exact expected per-user metrics of a uniformly random ranking of `task`'s candidates:
    every user's unmasked candidates form one tied group. (E,) arrays keyed like `metrics`."""
    n_ranked = task.n_candidates - np.diff(task.mask_ptr)  # (E,) unmasked candidates per user
    user = task.gt_pos.numpy()
    return expected_metrics(user, np.zeros(len(user), dtype=np.int64), n_ranked[user], task.n_relevant, ks, names)


def _result(task: RankingTask, config: EvalConfig, stats: TieStats) -> EvalResult:
    """Metrics, coverage, segments and tables from the collected tie statistics."""
    user = task.gt_pos.numpy()
    above = np.concatenate(stats.above) if stats.above else np.zeros(0, dtype=np.int64)
    tied = np.concatenate(stats.tied) if stats.tied else np.ones(0, dtype=np.int64)
    per_user = expected_metrics(user, above, tied, task.n_relevant, config.ks, config.metrics)
    metrics = {k: float(v.mean()) if len(v) else float("nan") for k, v in per_user.items()}
    rand = random_metrics(task, config.ks, config.metrics)
    segments = item_segment_metrics(
        user,
        above,
        tied,
        task.item_segment.numpy()[task.gt_items.numpy()],
        task.relevant_per_segment,
        task.candidate_items_per_segment,
        config.ks,
        config.metrics,
    )
    segments.update(user_segment_metrics(per_user, task.n_train))
    table = pd.DataFrame({"user": task.users, "n_relevant": task.n_relevant, "n_train": task.n_train, **per_user})
    ranks = None
    if stats.with_ranks:
        ranks = pd.DataFrame(
            {
                "user": task.users[user],
                "item": task.gt_items.numpy(),
                "rank": np.concatenate(stats.ranks) if stats.ranks else np.zeros(0, dtype=np.float64),
            }
        )
    return EvalResult(
        part=task.part,
        metrics=metrics,
        coverage=stats.coverage(),
        per_user=table,
        segments=segments,
        ranks=ranks,
        n_users=len(task.users),
        candidates=task.candidates,
        random={k: float(v.mean()) if len(v) else float("nan") for k, v in rand.items()},
    )


def evaluate_all(
    model: Recommender,
    data: InteractionData,
    split: Split,
    part: Part,
    config: EvalConfig = EvalConfig(),
    *,
    with_ranks: bool = False,
    device: torch.device | str = "cpu",
) -> dict[str, EvalResult]:
    """{"primary": result} and, for a split with candidates (cold-items), "all_items" beside it:
    primary ranks the candidates only (the new-item shelf), all_items the whole catalogue."""
    out = {
        "primary": evaluate(model, data, split, part, config, candidates="auto", with_ranks=with_ranks, device=device)
    }
    if split.candidates(part) is not None:
        out["all_items"] = evaluate(
            model, data, split, part, config, candidates="all", with_ranks=with_ranks, device=device
        )
    return out
