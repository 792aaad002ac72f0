"""Full-ranking evaluation: metrics, per-user tables, segments and paired comparisons.

`evaluate` ranks the whole catalogue (or a split's candidates) per user with training items
masked, as PROTOCOL.md prescribes, with tie-aware metrics and an exact random reference; `paired_compare` tests whether one run beats another.
"""

from __future__ import annotations

from rec_core.evaluate.compare import (
    PairedComparison,
    SeedAwareComparison,
    compare_all,
    compare_seeds,
    compare_seeds_all,
    paired_compare,
    seed_summary,
)
from rec_core.evaluate.metrics import (
    METRIC_NAMES,
    compute_metrics,
    dcg,
    expected_metrics,
    hit,
    metric_key,
    mrr,
    ndcg,
    precision,
    recall,
)
from rec_core.evaluate.ranking import (
    EvalConfig,
    EvalResult,
    RankingTask,
    evaluate,
    evaluate_all,
    random_metrics,
    ranking_scores,
    ranking_task,
    top_items,
    top_k,
)
from rec_core.evaluate.segments import (
    ITEM_SEGMENTS,
    item_segment_metrics,
    item_segments,
    user_activity_groups,
    user_segment_metrics,
)

__all__ = [
    "EvalConfig",
    "EvalResult",
    "ITEM_SEGMENTS",
    "METRIC_NAMES",
    "PairedComparison",
    "RankingTask",
    "SeedAwareComparison",
    "compare_all",
    "compare_seeds",
    "compare_seeds_all",
    "compute_metrics",
    "dcg",
    "expected_metrics",
    "evaluate",
    "evaluate_all",
    "hit",
    "item_segment_metrics",
    "item_segments",
    "metric_key",
    "mrr",
    "ndcg",
    "paired_compare",
    "precision",
    "random_metrics",
    "ranking_scores",
    "ranking_task",
    "recall",
    "seed_summary",
    "top_items",
    "top_k",
    "user_activity_groups",
    "user_segment_metrics",
]
