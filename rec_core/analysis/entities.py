"""Users and items as people read them: labels, search, and their training-popularity segment.

Every analysis page names entities the same way: an item by its title (and year), a user by
the profile text the language model reads. Raw ids are the dataset's own ids (strings); the
contiguous index used by the models is never shown without them.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from rec_core.data.interactions import InteractionData
from rec_core.errors import RecCoreError
from rec_core.evaluate import item_segments
from rec_core.split import Split

__all__ = [
    "Side",
    "EntityNotFound",
    "entity_labels",
    "search_entities",
    "resolve_entity",
    "train_counts",
    "item_segment_of",
    "check_side",
]

Side = Literal["user", "item"]
_LABEL_CHARS = 90  # a label longer than this is cut: hover boxes and table cells stay readable


class EntityNotFound(RecCoreError, LookupError):
    """A user or item id (or search text) that the run's dataset does not have."""


def check_side(side: str) -> Side:
    """`side` if it is "user" or "item", else a RecCoreError saying so."""
    if side == "user":
        return "user"
    if side == "item":
        return "item"
    raise RecCoreError(f"side must be 'user' or 'item', got {side!r}")


def _cut(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


def _item_label(data: InteractionData, k: int) -> str:
    fields = data.item_fields
    if "title" in fields.columns and isinstance(fields["title"].iat[k], str) and fields["title"].iat[k].strip():
        title = fields["title"].iat[k].strip()
        year = fields["year"].iat[k] if "year" in fields.columns else None
        # ML titles keep their year apart; show it, unless the title already carries it.
        if year is not None and not pd.isna(year) and f"({year})" not in title:
            title = f"{title} ({int(year)})"
        return _cut(title)
    text = data.item_text.texts[k] if k < len(data.item_text) else ""
    return _cut(text) if text.strip() else f"item {data.item_ids[k]}"


def _user_label(data: InteractionData, k: int) -> str:
    text = data.user_text.texts[k] if k < len(data.user_text) else ""
    return _cut(text) if text.strip() else f"user {data.user_ids[k]}"


def entity_labels(data: InteractionData, side: Side) -> list[str]:
    """One readable label per entity index: item title (year), or the user's profile text."""
    check_side(side)
    if side == "item":
        return [_item_label(data, k) for k in range(data.n_items)]
    return [_user_label(data, k) for k in range(data.n_users)]


def resolve_entity(data: InteractionData, side: Side, raw_id: str) -> int:
    """Index of the entity whose raw id is `raw_id`; EntityNotFound (a clear message) if none."""
    ids = data.item_ids if check_side(side) == "item" else data.user_ids
    wanted = str(raw_id).strip()
    hits = np.flatnonzero(ids.astype(str) == wanted)
    if len(hits) == 0:
        n = len(ids)
        raise EntityNotFound(
            f"There is no {side} with id {wanted!r} in this dataset ({n} {side}s; ids such as "
            f"{', '.join(map(str, ids[:3]))})."
        )
    return int(hits[0])


def search_entities(data: InteractionData, side: Side, query: str, limit: int = 50) -> pd.DataFrame:
    """Entities matching `query`: an exact raw id first, then ids, titles or user descriptions
    containing it (case-insensitive). Columns: index, id, label. Empty query: the first `limit`."""
    check_side(side)
    ids = (data.item_ids if side == "item" else data.user_ids).astype(str)
    labels = entity_labels(data, side)
    texts = data.item_text.texts if side == "item" else data.user_text.texts
    q = str(query).strip().lower()
    if not q:
        picked = list(range(min(limit, len(ids))))
    else:
        exact = [k for k in range(len(ids)) if ids[k].lower() == q]
        rest = [
            k
            for k in range(len(ids))
            if k not in exact
            and (q in ids[k].lower() or q in labels[k].lower() or (k < len(texts) and q in texts[k].lower()))
        ]
        picked = (exact + rest)[:limit]
    return pd.DataFrame(
        {
            "index": np.asarray(picked, dtype=np.int64),
            "id": [ids[k] for k in picked],
            "label": [labels[k] for k in picked],
        }
    )


def train_counts(data: InteractionData, split: Split, side: Side) -> np.ndarray:
    """(n,) training interactions of every item (popularity) or user (activity)."""
    if check_side(side) == "item":
        return np.bincount(data.items[split.train], minlength=data.n_items)
    return np.bincount(data.users[split.train], minlength=data.n_users)


def item_segment_of(data: InteractionData, split: Split) -> np.ndarray:
    """(n_items,) popularity segment (cold, tail, torso, head) exactly as `rec_core.evaluate` uses."""
    return item_segments(train_counts(data, split, "item"))
