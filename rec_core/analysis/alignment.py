"""How close a model's two views of each entity are: its ID vector and its text vector.

The Enhanced model aligns item (and user) ID embeddings with their text view (InfoNCE), and can
map an unseen item's text to the ID side (`text_to_id`). Where both views are (n, d) tables of
the same d they live in one space: `aligned_spaces` stacks them as [ID; text] (2n, d) with
unit-length rows, ready for one joint projection (`rec_core.analysis.project`), and measures the
alignment per entity as the cosine between its two vectors, and per group (e.g. warm / cold
entities, `entity_attributes(...)["warmth"]`) as the mean of those cosines. A model without a
text view (MF, EASE, ...) or whose views differ in width (GPT2Recommender) gives None.
Pure numpy over the model's embedding tables.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rec_core.analysis.entities import Side, check_side
from rec_core.analysis.projection import embeddings

__all__ = ["AlignedSpaces", "aligned_spaces", "entity_cosines", "mean_by_group", "stacked_unit_rows"]


@dataclass(frozen=True, eq=False)
class AlignedSpaces:
    """One side's ID and text views in one space."""

    stacked: np.ndarray  # (2n, d) float32: rows 0..n-1 the ID vectors, n..2n-1 the text vectors, unit length
    cosine: np.ndarray  # (n,) float32: cosine between each entity's ID and text vector

    @property
    def n(self) -> int:
        return len(self.cosine)


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)  # a zero vector stays zero (cosine 0 to everything)


def stacked_unit_rows(id_vecs: np.ndarray, text_vecs: np.ndarray) -> np.ndarray:
    """(2n, d) float32 [ID; text] with every row scaled to unit length (zero rows stay zero)."""
    if id_vecs.shape != text_vecs.shape or id_vecs.ndim != 2:
        raise ValueError(f"the two views must be (n, d) tables of one shape, not {id_vecs.shape} and {text_vecs.shape}")
    return _unit(np.vstack([id_vecs, text_vecs]).astype(np.float32))


def entity_cosines(id_vecs: np.ndarray, text_vecs: np.ndarray) -> np.ndarray:
    """(n,) float32 cosine between row i of `id_vecs` and row i of `text_vecs` (0 for a zero row)."""
    unit = stacked_unit_rows(id_vecs, text_vecs)
    n = len(id_vecs)
    return np.einsum("nd,nd->n", unit[:n], unit[n:]).astype(np.float32)


def mean_by_group(cosine: np.ndarray, groups: Sequence[Any]) -> dict[str, float]:
    """Mean cosine per group label (labels as strings, in first-seen order); NaN for no member."""
    labels = np.asarray([str(g) for g in groups], dtype=object)
    if len(labels) != len(cosine):
        raise ValueError(f"{len(labels)} group labels for {len(cosine)} entities")
    out: dict[str, float] = {}
    for label in dict.fromkeys(labels):
        members = cosine[labels == label]
        out[str(label)] = float(members.mean()) if len(members) else math.nan
    return out


def aligned_spaces(model: Any, side: Side) -> AlignedSpaces | None:
    """`side`'s ID and text views of `model` in one space, or None when it has no text view or
    the two views differ in width."""
    check_side(side)
    views = tuple(getattr(model, "views", ()))
    if "id" not in views or "text" not in views:
        return None
    id_vecs, text_vecs = embeddings(model, side, "id"), embeddings(model, side, "text")
    if id_vecs.shape != text_vecs.shape:
        return None
    return AlignedSpaces(stacked_unit_rows(id_vecs, text_vecs), entity_cosines(id_vecs, text_vecs))
