"""rec_core's analysis tables in the page's language: segment names and counts translated.

`rec_core.analysis` returns data (segment names such as `tail`, counts per segment); the
pages and their CSV downloads show them through `localized`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from rec_app.i18n import segment_label

__all__ = ["segment_counts_text", "localized", "export_columns"]

# Columns holding one segment name per row (item popularity or user activity).
_SEGMENT_COLUMNS = ("segment", "activity")


def segment_counts_text(counts: Mapping[str, int], lang: str = "en") -> str:
    """`2 tail, 1 head` (or in Chinese) from `rec_core.analysis.segment_counts`."""
    return ", ".join(f"{int(n)} {segment_label(s, lang)}" for s, n in counts.items())


def localized(table: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """A copy of `table` with its segment columns (`segment`, `activity`) and per-segment
    counts (`test_segments`) as readable text in `lang`; other columns unchanged."""
    out = table.copy()
    for col in _SEGMENT_COLUMNS:
        if col in out.columns:
            out[col] = [segment_label(str(s), lang) for s in out[col]]
    if "test_segments" in out.columns:
        out["test_segments"] = [segment_counts_text(c, lang) for c in out["test_segments"]]
    return out


def export_columns(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with its index and id columns named for a CSV read without the page: `item` /
    `user` (rec_core's 0-based position in the loaded dataset) become `item_index_0based` /
    `user_index_0based`, and `id` (the dataset's own id, e.g. ML-100K's movie id) becomes
    `item_id` or `user_id`, whichever entity the table is about."""
    side = "item" if "item" in table.columns else "user" if "user" in table.columns else None
    names = {"item": "item_index_0based", "user": "user_index_0based"}
    if side is not None:
        names["id"] = f"{side}_id"
    return table.rename(columns={k: v for k, v in names.items() if k in table.columns})
