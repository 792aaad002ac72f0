"""The Compare page's comparisons, cached per session; the tables in words live in
`rec_app.compare.text` (re-exported here for the page)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import streamlit as st

from rec_app.ui import resources
from rec_app.compare.groups import RunGroup
from rec_app.compare.table import GroupComparison, compare_groups
from rec_app.compare.text import (
    differences_display,
    duplicate_notes,
    labels_table,
    format_p,
    format_x_random,
    group_label,
    method_label,
    summary_display,
    verdict_sentences,
)

__all__ = [
    "group_label",
    "duplicate_notes",
    "labels_table",
    "summary_display",
    "differences_display",
    "verdict_sentences",
    "cached_comparisons",
    "format_p",
    "method_label",
    "format_x_random",
]


@st.cache_data(max_entries=64, show_spinner=False)
def _cached(
    _reference: RunGroup, _others: tuple[RunGroup, ...], key: tuple, metrics: tuple[str, ...]
) -> list[GroupComparison]:
    return compare_groups(_reference, _others, resources.per_user_table, metrics)


def cached_comparisons(
    reference: RunGroup, others: Sequence[RunGroup], metrics: Sequence[str]
) -> list[GroupComparison]:
    """`compare_groups`, cached by the runs involved and their per-user files' times (not by
    the groups' names, which follow the language: a language switch does not redo the tests)."""
    others = [g for g in others if g.key != reference.key]
    groups = (reference, *others)
    stamps = tuple(
        (g.key, r.run_id, resources.file_stamp(resources.store().root / r.run_id / "tables" / "per_user_test.parquet"))
        for g in groups
        for r in g.runs
    )
    found = _cached(reference, tuple(others), (reference.key, stamps), tuple(metrics))
    # One comparison per other group, in order: names (and error texts) of this language.
    return [dataclasses.replace(gc, group=g.name, reference=reference.name) for gc, g in zip(found, others)]
