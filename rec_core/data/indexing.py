"""Raw interactions -> contiguous indices, shared by every source (MovieLens, CSV, synthetic).

Rules, the same for every source:
- duplicate (user, item) pairs keep the latest row by timestamp (ties: the later row), and a
  note says how many were dropped;
- `min_rating` (if set) keeps ratings >= it, after deduplication, so a re-rating counts;
- only users and items that keep at least one interaction are indexed: `n_items` counts the
  rankable items, as RecBole does. Catalogue entries nobody interacted with are left out;
- indices follow the raw ids sorted numerically when every id is a number, else
  lexicographically; raw ids are stored as str;
- interaction rows are ordered by (user, timestamp, item).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rec_core.data.interactions import InteractionData, TextTable
from rec_core.errors import DataError

__all__ = ["IndexedInteractions", "index_interactions", "assemble", "sorted_id_order"]


@dataclass(frozen=True, eq=False)
class IndexedInteractions:
    """The interaction part of an `InteractionData`, before fields and texts are attached."""

    user_ids: np.ndarray  # (n_users,) str raw ids
    item_ids: np.ndarray  # (n_items,) str raw ids
    users: np.ndarray  # (n_inter,) int64
    items: np.ndarray  # (n_inter,) int64
    ratings: np.ndarray  # (n_inter,) float32
    timestamps: np.ndarray  # (n_inter,) int64
    notes: tuple[str, ...]


def sorted_id_order(ids: np.ndarray) -> np.ndarray:
    """Permutation sorting `ids` numerically when all are numbers, else as strings."""
    as_str = np.asarray([str(x) for x in ids], dtype=str) if ids.dtype.kind not in "iu" else None
    if as_str is None:
        return np.argsort(ids, kind="stable")
    numbers = pd.to_numeric(pd.Series(as_str, dtype=object), errors="coerce").to_numpy(dtype=np.float64)
    if len(as_str) and not np.isnan(numbers).any():
        # The string breaks ties between spellings of one number ("7" and "007").
        return np.lexsort((as_str, numbers))
    return np.argsort(as_str, kind="stable")


def _factorize(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(raw, sort=False)
    return codes.astype(np.int64), np.asarray(uniques)


def index_interactions(
    users_raw: np.ndarray,
    items_raw: np.ndarray,
    ratings: np.ndarray | None,
    timestamps: np.ndarray | None,
    *,
    min_rating: float | None,
    source: str,
) -> IndexedInteractions:
    """Deduplicated, filtered, contiguously indexed interactions; `source` names the input in errors.

    `ratings` None -> 1.0 everywhere; `timestamps` None -> row order 0..n-1.
    """
    n = len(users_raw)
    if len(items_raw) != n:
        raise DataError(source, "user and item columns differ in length")
    if n == 0:
        raise DataError(source, "no interactions: the interaction table is empty")
    ratings = np.ones(n, np.float32) if ratings is None else np.asarray(ratings, np.float32)
    timestamps = np.arange(n, dtype=np.int64) if timestamps is None else np.asarray(timestamps, np.int64)
    u_codes, u_uniques = _factorize(users_raw)
    i_codes, i_uniques = _factorize(items_raw)
    notes: list[str] = []

    # Dedup: a hash pass finds repeated pairs; only those rows are sorted (by time, then row).
    key = u_codes * np.int64(len(i_uniques)) + i_codes
    repeated = pd.Series(key).duplicated(keep=False).to_numpy()
    keep = np.arange(n)
    if repeated.any():
        rows = np.flatnonzero(repeated)
        order = rows[np.lexsort((rows, timestamps[rows], key[rows]))]
        last = np.ones(len(order), dtype=bool)
        last[:-1] = key[order][1:] != key[order][:-1]
        kept = np.ones(n, dtype=bool)
        kept[rows] = False
        kept[order[last]] = True
        keep = np.flatnonzero(kept)
        notes.append(f"dropped {n - len(keep)} duplicate (user, item) rows, keeping the latest by timestamp")
    if min_rating is not None:
        passed = ratings[keep] >= min_rating
        if not passed.any():
            raise DataError(
                "min_rating",
                f"no interaction in {source} has rating >= {min_rating} "
                f"(ratings range {ratings.min():g}..{ratings.max():g})",
            )
        if not passed.all():
            notes.append(f"kept {int(passed.sum())} of {len(keep)} interactions with rating >= {min_rating:g}")
        keep = keep[passed]

    user_ids, users = _reindex(u_codes[keep], u_uniques)
    item_ids, items = _reindex(i_codes[keep], i_uniques)
    dropped_items = len(i_uniques) - len(item_ids)
    dropped_users = len(u_uniques) - len(user_ids)
    if dropped_users or dropped_items:
        notes.append(
            f"{dropped_users} users and {dropped_items} items lost every interaction to the filter and are not indexed"
        )
    ratings, timestamps = ratings[keep], timestamps[keep]
    final = _row_order(users, timestamps, items, len(user_ids), len(item_ids))
    return IndexedInteractions(
        user_ids=user_ids,
        item_ids=item_ids,
        users=users[final],
        items=items[final],
        ratings=ratings[final],
        timestamps=timestamps[final],
        notes=tuple(notes),
    )


def _row_order(users: np.ndarray, timestamps: np.ndarray, items: np.ndarray, n_users: int, n_items: int) -> np.ndarray:
    """Permutation ordering rows by (user, timestamp, item).

    One argsort of a packed int64 key is several times faster than `np.lexsort` on three
    keys (ML-1M: ~0.3 s vs ~1.3 s); lexsort remains the fallback when the key would overflow.
    """
    if len(timestamps) == 0:
        return np.empty(0, dtype=np.int64)
    t_min, t_max = int(timestamps.min()), int(timestamps.max())
    t_span = t_max - t_min + 1
    if n_users * t_span * n_items < 2**62:
        packed = (users * np.int64(t_span) + (timestamps - np.int64(t_min))) * np.int64(n_items) + items
        return np.argsort(packed)  # keys are unique (no duplicate pairs): any sort is deterministic
    return np.lexsort((items, timestamps, users))


def _reindex(codes: np.ndarray, uniques: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(raw ids as str in index order, new index per row) for the codes that remain."""
    present = np.flatnonzero(np.bincount(codes, minlength=len(uniques)))
    present = present[sorted_id_order(uniques[present])]
    remap = np.full(len(uniques), -1, dtype=np.int64)
    remap[present] = np.arange(len(present), dtype=np.int64)
    ids = np.asarray([str(x) for x in uniques[present]], dtype=str)
    return ids, remap[codes]


def assemble(
    name: str,
    core: IndexedInteractions,
    *,
    user_fields: pd.DataFrame,
    item_fields: pd.DataFrame,
    user_text: TextTable,
    item_text: TextTable,
    notes: tuple[str, ...] = (),
) -> InteractionData:
    """The finished `InteractionData`; fields and texts must already be in index order."""
    if len(user_fields) != len(core.user_ids) or len(user_text) != len(core.user_ids):
        raise ValueError("assemble: user fields/text do not match the user index")
    if len(item_fields) != len(core.item_ids) or len(item_text) != len(core.item_ids):
        raise ValueError("assemble: item fields/text do not match the item index")
    return InteractionData(
        name=name,
        user_ids=core.user_ids,
        item_ids=core.item_ids,
        users=core.users,
        items=core.items,
        ratings=core.ratings,
        timestamps=core.timestamps,
        user_fields=user_fields.reset_index(drop=True),
        item_fields=item_fields.reset_index(drop=True),
        user_text=user_text,
        item_text=item_text,
        notes=tuple(notes) + core.notes,
    )
