"""Run-table rows (`rec_app.runs.table.RunRow`) for tests of what the app reads from them: a
running MF run on ML-100K unless the fields say otherwise."""

from __future__ import annotations

from typing import Any

from rec_app.runs.table import RunRow

DEFAULTS: dict[str, Any] = {
    "run_id": "r",
    "state": "running",
    "name": "mf-ml-100k-ratio",
    "model": "mf",
    "preset": "",
    "backbone": "",
    "dataset": "ml-100k",
    "split": "ratio",
    "seed": 0,
    "created_at": None,
    "started_at": None,
    "finished_at": None,
    "duration_s": 0.0,
}


def run_row(**fields: Any) -> RunRow:
    """A RunRow of `DEFAULTS` with `fields` in their place."""
    return RunRow(**{**DEFAULTS, **fields})
