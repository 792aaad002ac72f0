"""RunSummary: one row of the runs table, and the facts it derives from a run's files.

`read_summary` is the one reader behind `RunStore.list()`, the CLI's `list` and the app's runs
table (`rec_app.run_table` builds its rows on it): it never raises for one odd run, and it
applies the state rule of the store (a run whose results or files are unreadable, missing or
truncated lists as "corrupt", naming the file).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from rec_core.configs import sub_table
from rec_core.errors import RecCoreError
from rec_core.runs.record import RunResults, RunStatus
from rec_core.runs.run import FINISHED_STATES

if TYPE_CHECKING:
    from rec_core.runs.run import Run

__all__ = [
    "COMPLETION_REASONS",
    "COMPLETION_STATES",
    "PRIMARY_METRICS",
    "RunSummary",
    "best_epoch_text",
    "completion_of",
    "completion_summary",
    "duration_s",
    "parse_time",
    "primary_test_metrics",
    "read_summary",
]

# The test metrics a short listing shows first (lower case; results use e.g. "ndcg@10").
PRIMARY_METRICS = ("ndcg@10", "hit@10", "recall@10", "mrr@10")

# results["completion"] / status["completion"]: how a run ended. "state" is one of
# COMPLETION_STATES; "reason" one of COMPLETION_REASONS: early_stopped (patience ran out),
# max_epochs (all epochs ran), fitted (a model without gradient training, fitted at once),
# user_stop (a stop request), signal (SIGINT / SIGTERM / SIGHUP: the same cooperative stop, its
# name in "signal"; under torchrun "signal_rank" when it reached one process, not the launcher), interrupted (aborted: a second signal, or one before training; nothing saved),
# error (an exception).
COMPLETION_STATES = ("finished", "stopped", "failed")
COMPLETION_REASONS = ("early_stopped", "max_epochs", "fitted", "user_stop", "signal", "interrupted", "error")
_READ_ERRORS = (RecCoreError, OSError, ValueError, TypeError)


@dataclass(frozen=True)
class RunSummary:
    """One run as its files describe it, built by `read_summary`; every field has a safe value
    even for a broken run. Timestamps are kept as stored (ISO 8601 UTC strings)."""

    run_id: str
    state: str  # a RUN_STATES value, or "corrupt" when the run's files cannot be read
    created_at: str | None  # ISO 8601 UTC
    finished_at: str | None
    config: dict[str, Any] = field(default_factory=dict)  # {} when config.json is unreadable
    metrics: dict[str, float] = field(default_factory=dict)  # test metrics of the primary ranking
    error: str | None = None  # failure text, or what is wrong with a corrupt run (names the file)
    duration_s: float | None = None  # started -> finished (or -> now while running)
    completion: dict[str, Any] = field(default_factory=dict)  # how the run ended ({} while running)
    started_at: str | None = None
    updated_at: str | None = None  # last status write (when a run whose process died was last heard of)
    phase: str | None = None  # what a running run is doing ("encoding text", "training", ...)
    progress: dict[str, Any] = field(default_factory=dict)  # {"epoch": k, "epochs": n, ...}
    has_results: bool = False  # results.json was read and holds test metrics
    # What the results say the run was made with, beyond its config, that can change its
    # numbers (`result_setting`): runs that differ here are different experiments.
    setting: dict[str, Any] = field(default_factory=dict)


def result_setting(results: Any) -> dict[str, Any]:
    """What can change a run's numbers that its config does not hold, from its results: the
    number of training processes (torchrun; one process and an older run's missing record are
    the same), the settings of the MF run a warm start copied (not its id, seed or length:
    each seed starts from its own MF run), the backbone's identity (path and revision) and the
    fingerprint of the training code. {} for unreadable results."""
    if not isinstance(results, dict):
        return {}
    record = RunResults.from_dict(results)
    out: dict[str, Any] = {}
    processes = record.processes
    if isinstance(processes, int) and not isinstance(processes, bool) and processes > 1:
        out["processes"] = processes
    if isinstance(record.warm_start, dict):
        out["warm_start"] = {k: v for k, v in record.warm_start.items() if k in ("model", "train")}
    info = record.model_info
    if isinstance(info, dict) and info.get("backbone_identity") is not None:
        out["backbone_identity"] = info["backbone_identity"]
    if record.code is not None:
        out["code"] = record.code
    return out


def parse_time(value: Any) -> datetime | None:
    """A status timestamp as an aware datetime (ISO 8601 strings and Unix seconds both occur);
    None when absent or unreadable."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return datetime.fromtimestamp(float(value), timezone.utc)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


def duration_s(st: dict[str, Any], now: datetime | None = None) -> float | None:
    """Seconds from started_at to finished_at (to `now` while running, else to updated_at);
    None when a timestamp is missing or unreadable."""
    start = parse_time(st.get("started_at"))
    end = parse_time(st.get("finished_at"))
    if end is None:
        end = (now or datetime.now(timezone.utc)) if st.get("state") == "running" else parse_time(st.get("updated_at"))
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def primary_test_metrics(results: dict[str, Any] | None) -> dict[str, float]:
    """Numeric test metrics of the primary ranking (e.g. {"ndcg@10": 0.12, ...}); {} if absent.

    Reads results["test"]["primary"]["metrics"] (what execute_run writes), else the older
    layouts results["test"]["metrics"] and results["test"]. Metric names have the form
    "name@k"; other numbers beside them (n_users) and NaN written as null are left out.
    """
    test = sub_table(results, "test")
    if "primary" in test:
        test = sub_table(test, "primary")
    if "metrics" in test:
        test = sub_table(test, "metrics")
    return {
        str(k): float(v)
        for k, v in test.items()
        if "@" in str(k) and isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def read_summary(run: Run) -> RunSummary | None:
    """The summary of `run`; None if its folder vanished meanwhile (deleted while being read).

    Never raises for unreadable files: config.json, status.json or results.json that cannot
    be read, or files results.json records that are missing or truncated (sizes are checked,
    not checksums), give state "corrupt" with the problem in `error`; what could be read is
    kept (a run with a corrupt results.json still shows its config).
    """
    problems: list[str] = []
    try:
        config = run.config()
        if not isinstance(config, dict):
            raise ValueError(f"{run.path / 'config.json'}: not a JSON object")
    except _READ_ERRORS as exc:
        config = {}
        problems.append(str(exc))
    try:
        status = run.status()
    except _READ_ERRORS as exc:
        status = {}
        problems.append(str(exc))
    results: dict[str, Any] | None = None
    try:
        results = run.results()
    except _READ_ERRORS as exc:
        problems.append(str(exc))
    if not run.path.is_dir():
        return None
    st = RunStatus.from_dict(status)
    state = "corrupt" if "state" in st.absent else str(st.state)
    error = st.error
    if not problems and state in ("done", "stopped"):
        try:
            problem = run.check_files(results)
        except _READ_ERRORS as exc:
            problem = str(exc)
        if problem is None and state == "done" and results is None:
            problem = f"{run.path / 'results.json'}: no such file"
        if problem is not None:  # never called done when its results or files are missing or truncated
            problems.append(problem)
    if problems:
        state, error = "corrupt", problems[0]
    metrics = primary_test_metrics(results) if state != "corrupt" else {}
    return RunSummary(
        run_id=run.run_id,
        state=state,
        created_at=_text(st.created_at),
        finished_at=_text(st.finished_at),
        config=config,
        metrics=metrics,
        error=str(error) if error is not None else None,
        duration_s=duration_s(status),
        completion=completion_of(status, results) if st.state in FINISHED_STATES else {},
        started_at=_text(st.started_at),
        updated_at=_text(st.updated_at),
        phase=_text(st.phase),
        progress=st.progress if isinstance(st.progress, dict) else {},
        has_results=bool(metrics),
        setting=result_setting(results) if state != "corrupt" else {},
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


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
        head = {
            "early_stopped": f"finished: early-stopped after {n} epochs",
            "max_epochs": f"finished: all {n} epochs",
            "fitted": "finished: fitted (no gradient training)",
        }.get(str(reason), "finished")
    elif state == "stopped":
        sent = f"stopped by {completion.get('signal') or 'a signal'}"
        if isinstance(completion.get("signal_rank"), int):  # torchrun: sent to one process only
            sent += f" sent to process {completion['signal_rank']} alone"
        who = {"interrupted": "interrupted", "signal": sent}.get(str(reason), "stopped by the user")
        head = f"{who} after epoch {n}" if n else f"{who}: no epoch completed"
        if reason == "interrupted":
            return head  # nothing was tested or saved: no restored weights to speak of
    elif state == "failed":
        return f"failed after epoch {n}" if n else "failed before the first epoch completed"
    else:
        return ""
    best = best_epoch_text(completion.get("best_epoch"), completion.get("best_phase"), completion.get("note"))
    return f"{head}; {best}" if best else head
