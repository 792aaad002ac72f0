"""RunSummary: one row of the runs table, and the facts it derives from a run's files."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rec_core.configs import sub_table
from rec_core.runs.names import utc_now

__all__ = ["COMPLETION_REASONS", "COMPLETION_STATES", "PRIMARY_METRICS", "RunSummary", "best_epoch_text",
           "completion_of", "completion_summary", "duration_s", "primary_metrics", "primary_test_metrics"]

# Test metrics a RunSummary shows when results.json has them (matched case-insensitively).
PRIMARY_METRICS = ("ndcg@10", "hit@10", "recall@10", "mrr@10")

# results["completion"] / status["completion"]: how a run ended. "state" is one of
# COMPLETION_STATES; "reason" one of COMPLETION_REASONS: early_stopped (patience ran out),
# max_epochs (all epochs ran), fitted (a model without gradient training, fitted at once),
# user_stop (a stop request), signal (SIGINT / SIGTERM: the same cooperative stop, its name in
# "signal"), interrupted (aborted: a second signal, or one before training; nothing saved),
# error (an exception).
COMPLETION_STATES = ("finished", "stopped", "failed")
COMPLETION_REASONS = ("early_stopped", "max_epochs", "fitted", "user_stop", "signal", "interrupted", "error")


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
    completion: dict[str, Any] = field(default_factory=dict)  # how the run ended ({} while running)


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


def primary_test_metrics(results: dict[str, Any] | None) -> dict[str, float]:
    """Test metrics of the primary ranking (e.g. {"ndcg@10": 0.12, ...}); {} if absent."""
    metrics = sub_table(sub_table(sub_table(results, "test"), "primary"), "metrics")
    return {str(k): float(v) for k, v in metrics.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def completion_of(status: dict[str, Any] | None, results: dict[str, Any] | None) -> dict[str, Any]:
    """The run's completion record: results.json's, else status.json's, else {} (older runs)."""
    for source in (results, status):
        value = source.get("completion") if isinstance(source, dict) else None
        if isinstance(value, dict):
            return value
    return {}


def best_epoch_text(best_epoch: Any, best_phase: Any = None, note: Any = None) -> str:
    """E.g. "best epoch 3, cached phase: the dynamic phase did not improve validation".

    The phase is named unless it is the implicit "train" phase of a one-phase run.
    """
    if best_phase == "initial":  # a warm start whose MF weights no epoch beat on validation
        return "best: the initial (warm-start) weights" + (f": {note}" if note else "")
    if not isinstance(best_epoch, int) or isinstance(best_epoch, bool) or best_epoch <= 0:
        return ""
    text = f"best epoch {best_epoch}"
    if best_phase and best_phase != "train":
        text += f", {best_phase} phase"
    return text + (f": {note}" if note else "")


def completion_summary(completion: dict[str, Any]) -> str:
    """One line for people: how the run ended and where its restored weights come from."""
    state, reason = completion.get("state"), completion.get("reason")
    n = completion.get("epochs_completed") or 0
    if state == "finished":
        head = {"early_stopped": f"finished: early-stopped after {n} epochs",
                "max_epochs": f"finished: all {n} epochs",
                "fitted": "finished: fitted (no gradient training)"}.get(str(reason), "finished")
    elif state == "stopped":
        who = {"interrupted": "interrupted", "signal": f"stopped by {completion.get('signal') or 'a signal'}"}.get(
            str(reason), "stopped by the user")
        head = f"{who} after epoch {n}" if n else f"{who}: no epoch completed"
        if reason == "interrupted":
            return head  # nothing was tested or saved: no restored weights to speak of
    elif state == "failed":
        return f"failed after epoch {n}" if n else "failed before the first epoch completed"
    else:
        return ""
    best = best_epoch_text(completion.get("best_epoch"), completion.get("best_phase"), completion.get("note"))
    return f"{head}; {best}" if best else head
