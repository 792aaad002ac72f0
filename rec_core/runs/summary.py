"""RunSummary: one row of the runs table, and the facts it derives from a run's files."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rec_core.runs.names import utc_now

__all__ = ["PRIMARY_METRICS", "RunSummary", "duration_s", "primary_metrics"]

# Test metrics a RunSummary shows when results.json has them (matched case-insensitively).
PRIMARY_METRICS = ("ndcg@10", "hit@10", "recall@10", "mrr@10")


@dataclass(frozen=True)
class RunSummary:
    """One row of the runs table, built from a run's files by `RunStore.list`."""

    run_id: str
    state: str  # a RUN_STATES value, or "corrupt" when the run's files cannot be read
    created_at: str | None  # ISO 8601 UTC
    finished_at: str | None
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)  # primary test metrics
    error: str | None = None  # failure text, or what is wrong with a corrupt run
    duration_s: float | None = None  # started -> finished (or -> now while running)


def duration_s(st: dict[str, Any]) -> float | None:
    """Seconds from started_at to finished_at (to now while running, else to updated_at)."""
    start = st.get("started_at")
    end = st.get("finished_at") or (utc_now() if st["state"] == "running" else st.get("updated_at"))
    if not start or not end:
        return None
    return max(0.0, (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())


def primary_metrics(results: dict[str, Any] | None) -> dict[str, float]:
    """Numeric test metrics from results["test"]["primary"]["metrics"] (what execute_run
    writes), or results["test"]["metrics"] / results["test"].

    Keeps only PRIMARY_METRICS when any is present, so the runs table stays narrow.
    """
    test = results.get("test") if isinstance(results, dict) else None
    if isinstance(test, dict) and isinstance(test.get("primary"), dict):
        test = test["primary"]
    if isinstance(test, dict) and isinstance(test.get("metrics"), dict):
        test = test["metrics"]
    if not isinstance(test, dict):
        return {}
    numeric = {str(k): float(v) for k, v in test.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)}
    primary = {k: v for k, v in numeric.items() if k.lower() in PRIMARY_METRICS}
    return primary or numeric
