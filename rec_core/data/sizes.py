"""Sizes of a dataset known from its config alone, without loading it (None when unknown)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["DatasetSize", "KNOWN_SIZES", "dataset_size"]


@dataclass(frozen=True)
class DatasetSize:
    n_users: int
    n_items: int
    n_interactions: int


# Sizes of the GroupLens files (before any min_rating filter, so an upper bound).
KNOWN_SIZES = {"ml-100k": DatasetSize(943, 1682, 100_000), "ml-1m": DatasetSize(6040, 3706, 1_000_209)}


def dataset_size(data: dict[str, Any]) -> DatasetSize | None:
    """Size of a built-in or synthetic dataset from its config; None for CSV (measure it)."""
    name = data.get("name")
    if name in KNOWN_SIZES:
        return KNOWN_SIZES[name]
    if name == "synthetic":
        users, items = int(data.get("synthetic_users", 600)), int(data.get("synthetic_items", 500))
        return DatasetSize(users, items, users * int(data.get("synthetic_interactions_per_user", 40)))
    return None
