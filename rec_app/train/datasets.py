"""Where a dataset stands on this machine, from `rec_core.data.dataset_status()` rows."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

__all__ = ["Availability", "availability"]

Availability = Literal["ready", "incomplete", "downloadable"]


def availability(row: Mapping[str, Any]) -> Availability:
    """ "ready"; "incomplete" when its folder exists but lacks files (unzip it again);
    "downloadable" when there is no folder yet (it downloads on first use when online).
    Decided from the row's state and its folder on disk, never from the wording of `detail`."""
    if row.get("state") == "ready":
        return "ready"
    path = row.get("path")
    return "incomplete" if path and Path(str(path)).is_dir() else "downloadable"
