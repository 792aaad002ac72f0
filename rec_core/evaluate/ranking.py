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

This module holds `evaluate`, `evaluate_all`, `EvalResult` and the random reference; the
ranking task (candidates, masks, ground truth) is in `task`, the display lists in `top_lists`;
their public names are re-exported here.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from rec_core import distributed
from rec_core.configs.eval import EvalConfig
from rec_core.data.interactions import InteractionData
from rec_core.evaluate.metrics import METRIC_NAMES, expected_metrics
from rec_core.evaluate.segments import item_segment_metrics, user_segment_metrics
from rec_core.evaluate.task import CandidateMode, Part, RankingTask, mask_seen, prepare_scores, ranking_task
from rec_core.evaluate.ties import TieStats
from rec_core.evaluate.top_lists import ranking_scores, top_items, top_k
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
                scores = prepare_scores(model.full_scores(users), b - a, task.n_items)
                mask_seen(scores, task, a, b, non_cand)
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
