"""Rows of the app's runs table: `RunRow` is a `rec_core.runs.summary.RunSummary` (the one run
reader, never failing for one odd run) with the names, times and flags the pages show.

A finished run whose results.json is corrupt still shows its name, model and state (with the
problem in words), and a run deleted while it is being read is simply left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rec_core.configs import sub_table
from rec_core.runs import FINISHED_STATES, Run, RunStore
from rec_core.runs.summary import RunSummary, best_epoch_text, parse_time, read_summary

_STAMP = re.compile(r"-\d{8}-\d{6}-[0-9a-f]{4}$")  # what new_run_id appends to a prefix

__all__ = ["short_name", "RunRow", "read_row", "row_of", "list_rows", "parse_time"]


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
    # Beyond the config, what can change the numbers (`rec_core.runs.summary.result_setting`):
    # processes, the warm-start source's settings, the backbone's identity, the code fingerprint.
    setting: dict[str, Any] = field(default_factory=dict)

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


def row_of(summary: RunSummary) -> RunRow:
    """The row the pages show for `summary`."""
    fields = _config_fields(summary.config)
    finished = parse_time(summary.finished_at)
    if finished is None and summary.state in FINISHED_STATES:
        finished = parse_time(summary.updated_at)
    return RunRow(
        run_id=summary.run_id,
        state=summary.state,
        name=fields["label"] or short_name(summary.run_id),
        model=fields["model"],
        preset=fields["preset"],
        backbone=fields["backbone"],
        dataset=fields["dataset"],
        split=fields["split"],
        seed=fields["seed"],
        created_at=parse_time(summary.created_at),
        started_at=parse_time(summary.started_at),
        finished_at=finished,
        duration_s=summary.duration_s,
        metrics=summary.metrics,
        phase=summary.phase,
        progress=summary.progress,
        error=summary.error,
        config=summary.config,
        has_results=summary.has_results,
        completion=summary.completion,
        setting=summary.setting,
    )


def read_row(run: Run) -> RunRow | None:
    """The row of `run`; None if its folder vanished meanwhile (deleted while being read)."""
    summary = read_summary(run)
    return None if summary is None else row_of(summary)


def list_rows(store: RunStore) -> list[RunRow]:
    """Rows of every run in `store`, newest first (`RunStore.list`'s order)."""
    try:
        return [row_of(summary) for summary in store.list()]
    except FileNotFoundError:  # the runs folder itself was removed
        return []
