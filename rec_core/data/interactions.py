"""`InteractionData`: the one in-memory form of every dataset (MovieLens, CSV, synthetic)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["InteractionData", "TextTable"]


@dataclass(frozen=True)
class TextTable:
    """One text per entity (user or item) and which field each character span came from.

    `spans[k]` lists `(field, start, end)` character ranges of `texts[k]`, e.g.
    `[("title", 0, 16), ("year", 18, 22), ("genres", 33, 60)]`. The explain views use them to
    label every token with its field (title, year, genres; age, gender, occupation).
    """

    texts: tuple[str, ...]
    spans: tuple[tuple[tuple[str, int, int], ...], ...]

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.spans):
            raise ValueError("TextTable: texts and spans differ in length")

    def __len__(self) -> int:
        return len(self.texts)

    def field_of(self, k: int, char_pos: int) -> str:
        """Field that character `char_pos` of text `k` belongs to ('' for template glue)."""
        for name, start, end in self.spans[k]:
            if start <= char_pos < end:
                return name
        return ""


@dataclass(frozen=True, eq=False)
class InteractionData:
    """Users, items and their interactions with contiguous integer indices.

    Index `u` in `[0, n_users)` maps back to `user_ids[u]` (the raw id as a string), and the
    same for items. Interaction arrays are aligned, one row per (user, item) pair, with no
    duplicate pairs (loaders keep the latest and say so).
    """

    name: str
    user_ids: np.ndarray  # (n_users,) raw ids as str, index -> raw id
    item_ids: np.ndarray  # (n_items,) raw ids as str
    users: np.ndarray  # (n_inter,) int64 user index
    items: np.ndarray  # (n_inter,) int64 item index
    ratings: np.ndarray  # (n_inter,) float32; 1.0 where the source has no rating
    timestamps: np.ndarray  # (n_inter,) int64 seconds; 0..n-1 order where the source has none
    user_fields: pd.DataFrame  # one row per user index; MovieLens: age, gender, occupation, zip
    item_fields: pd.DataFrame  # one row per item index; MovieLens: title, year, genres (list[str])
    user_text: TextTable
    item_text: TextTable
    notes: tuple[str, ...] = field(default=())  # what a loader did to the data (dedup, filter)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_interactions(self) -> int:
        return len(self.users)

    def summary(self) -> dict[str, object]:
        """Counts and density, for the CLI, the app and run records."""
        n = self.n_interactions
        return {
            "name": self.name,
            "n_users": self.n_users,
            "n_items": self.n_items,
            "n_interactions": n,
            "density": n / max(1, self.n_users * self.n_items),
        }
