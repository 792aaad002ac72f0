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


# Sizes of the GroupLens files (before any min_rating filter, so an upper bound). Users and
# items count those with a rating, as the loaders index them: ML-10M's README names 71,567 users
# and 10,681 movies, of which 69,878 and 10,677 have ratings; ML-20M's 27,278 movies, 26,744 rated.
KNOWN_SIZES = {
    "ml-100k": DatasetSize(943, 1682, 100_000),
    "ml-1m": DatasetSize(6040, 3706, 1_000_209),
    "ml-10m": DatasetSize(69_878, 10_677, 10_000_054),
    "ml-20m": DatasetSize(138_493, 26_744, 20_000_263),
}


def dataset_size(data: dict[str, Any]) -> DatasetSize | None:
    """Size of a built-in or synthetic dataset from its config; None for CSV (measure it)."""
    name = data.get("name")
    if name in KNOWN_SIZES:
        return KNOWN_SIZES[name]
    if name == "synthetic":
        users, items = int(data.get("synthetic_users", 600)), int(data.get("synthetic_items", 500))
        return DatasetSize(users, items, users * int(data.get("synthetic_interactions_per_user", 40)))
    return None
