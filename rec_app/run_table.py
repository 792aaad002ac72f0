"""Rows of the app's runs table, read from a RunStore one run at a time and never failing.

`RunStore.list()` gives up on a whole run when one of its files is odd; the app needs more:
a finished run whose results.json is corrupt must still show its name, model and state
(with the problem in words), and a run deleted while it is being read is simply left out.
Metrics come from `results["test"]["primary"]["metrics"]` (what `execute_run` writes).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from rec_core.configs import sub_table
from rec_core.errors import RecCoreError
from rec_core.runs import FINISHED_STATES, Run, RunStore
from rec_core.runs.summary import best_epoch_text, completion_of, primary_test_metrics

_STAMP = re.compile(r"-\d{8}-\d{6}-[0-9a-f]{4}$")  # what new_run_id appends to a prefix

__all__ = ["short_name", "RunRow", "read_row", "list_rows", "parse_time"]


@dataclass(frozen=True)
class RunRow:
    """One run as the pages show it. Every field has a safe value even for a broken run."""

    run_id: str
    state: str  # queued | running | done | failed | stopped | corrupt
    name: str  # the run's label, else its id without the time stamp (`mf-ml-100k-ratio-s0`)
    model: str  # pop | mf | gpt2rec | enhanced ("?" when the config is unreadable)
    preset: str  # enhanced scheme preset, "" if none
    backbone: str  # text backbone, "" for ID-only models
    dataset: str
    split: str
    seed: int | None
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None  # for a run whose process died: when it was last heard of
    duration_s: float | None  # started -> finished, or -> now while running
    metrics: dict[str, float] = field(default_factory=dict)  # test metrics (primary ranking)
    phase: str | None = None  # what a running run is doing ("encoding text", "training", ...)
    progress: dict[str, Any] = field(default_factory=dict)  # {"epoch": k, "epochs": n, ...}
    error: str | None = None  # failure text, or what is unreadable (names the file)
    config: dict[str, Any] = field(default_factory=dict)
    has_results: bool = False  # results.json was read successfully
    # How a finished run ended: results["completion"] (else status.json's), {} while running
    # or for runs older than the record. Keys: state (finished | stopped | failed), reason,
    # epochs_completed, best_epoch, best_phase, note, summary (one line for people).
    completion: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def no_epoch(self) -> bool:
        """Stopped before a gradient-trained model completed one epoch: nothing to compare."""
        return self.completion.get("state") == "stopped" and self.completion.get("epochs_completed") == 0

    @property
    def comparable(self) -> bool:
        """Whether the Compare page can use it: finished with readable test metrics, and
        at least one epoch trained (a run stopped before that has no test metrics)."""
        return self.state in ("done", "stopped") and self.has_results and not self.no_epoch

    @property
    def best_epoch(self) -> int | None:
        """Epoch of the restored weights (0: none, e.g. a model without epochs); None if unknown."""
        value = self.completion.get("best_epoch")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def best_phase(self) -> str | None:
        """Training phase of the restored weights ("cached", "dynamic", "train"), if known."""
        value = self.completion.get("best_phase")
        return str(value) if value else None

    @property
    def best_text(self) -> str:
        """E.g. "best epoch 3, cached phase: the dynamic phase did not improve validation"."""
        return best_epoch_text(self.best_epoch, self.best_phase, self.completion.get("note"))


def short_name(run_id: str) -> str:
    """A generated run id without its `-YYYYmmdd-HHMMSS-xxxx` tail (other ids unchanged)."""
    return _STAMP.sub("", run_id) or run_id


def parse_time(value: Any) -> datetime | None:
    """A status timestamp as an aware datetime: ISO 8601 strings and Unix seconds both occur."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return datetime.fromtimestamp(float(value), timezone.utc)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


def _config_fields(config: dict[str, Any]) -> dict[str, Any]:
    model, data, split = sub_table(config, "model"), sub_table(config, "data"), sub_table(config, "split")
    seed = config.get("seed")
    return {
        "model": str(model.get("name", "?")),
        "preset": str(model.get("preset") or ""),
        "backbone": str(model.get("backbone") or ""),
        "dataset": str(data.get("name", "?")),
        "split": str(split.get("kind", "?")),
        "seed": seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        "label": str(config.get("label") or ""),
    }


def read_row(run: Run) -> RunRow | None:
    """The row of `run`; None if its folder vanished meanwhile (deleted while being read)."""
    try:
        config = run.config()
        config_error = None
    except (RecCoreError, OSError, ValueError) as exc:
        config, config_error = {}, str(exc)
    try:
        status = run.status()
    except (RecCoreError, OSError, ValueError) as exc:
        if not run.path.is_dir():
            return None
        status, config_error = {"state": "corrupt"}, config_error or str(exc)
    if not run.path.is_dir():
        return None
    fields = _config_fields(config)
    state = "corrupt" if config_error else str(status.get("state"))
    error = config_error or status.get("error")
    metrics: dict[str, float] = {}
    has_results = False
    completion: dict[str, Any] = {}
    if state in ("done", "stopped"):
        try:
            results = run.results()
        except (RecCoreError, OSError, ValueError) as exc:
            results, error = None, str(exc)
        metrics = primary_test_metrics(results)
        has_results = bool(metrics)
        completion = completion_of(status, results)
        if results is None and error is None and state == "done":
            error = f"{run.path / 'results.json'}: no such file"
        try:
            problem = run.check_files(results) if results is not None else None
        except (RecCoreError, OSError, ValueError) as exc:
            problem = str(exc)
        if problem is not None or (state == "done" and results is None):
            # Never called done when its results or files are missing or truncated.
            state, error, metrics, has_results = "corrupt", problem or error, {}, False
    elif state == "failed":
        completion = completion_of(status, None)
    started = parse_time(status.get("started_at"))
    finished = parse_time(status.get("finished_at"))
    if finished is None and state in FINISHED_STATES:
        finished = parse_time(status.get("updated_at"))
    end = finished or (datetime.now(timezone.utc) if state == "running" else parse_time(status.get("updated_at")))
    duration = max(0.0, (end - started).total_seconds()) if started and end else None
    progress = sub_table(status, "progress")
    return RunRow(
        run_id=run.run_id, state=state, name=fields["label"] or short_name(run.run_id), model=fields["model"],
        preset=fields["preset"], backbone=fields["backbone"], dataset=fields["dataset"],
        split=fields["split"], seed=fields["seed"], created_at=parse_time(status.get("created_at")),
        started_at=started, finished_at=finished, duration_s=duration, metrics=metrics, phase=status.get("phase"),
        progress=progress, error=error, config=config, has_results=has_results, completion=completion,
    )


def list_rows(store: RunStore) -> list[RunRow]:
    """Rows of every run in `store`, newest first (by creation time, then id)."""
    rows: list[RunRow] = []
    try:
        run_ids = store.run_ids()
    except FileNotFoundError:  # the runs folder itself was removed
        return []
    for run_id in run_ids:
        row = read_row(Run(store.root / run_id))
        if row is not None:
            rows.append(row)
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    rows.sort(key=lambda r: (r.created_at or epoch, r.run_id), reverse=True)
    return rows
