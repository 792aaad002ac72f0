"""`Explanation`: cross-attention weights of one user or item, labelled token by token.

Follows bertviz's data contract: weights (heads, tokens) with the token strings; each row
sums to 1. Each token also carries the metadata field it came from (title, year, genres;
age, gender, occupation), so weights can be summed per field.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import Tensor

from rec_core.data.interactions import TextTable
from rec_core.text import TextEncoder, token_labels
from rec_core.text.tokens import SPECIAL, TEMPLATE

__all__ = ["Explanation", "explanation"]


@dataclass(frozen=True, eq=False)
class Explanation:
    side: str  # "user" or "item"
    index: int  # contiguous index of the entity
    text: str  # the metadata text the tokens come from
    tokens: tuple[str, ...]  # readable token strings, in position order
    fields: tuple[str, ...]  # field of each token ("special", "template" for glue)
    weights: np.ndarray  # (heads, tokens) float; each row sums to 1
    seen_in_training: bool  # False: the ID query was the neutral (cold) embedding

    @property
    def mean(self) -> np.ndarray:
        """(tokens,) weights averaged over heads."""
        return self.weights.mean(axis=0)

    def content_share(self) -> float:
        """Share of the attention (mean over heads) on tokens of field values: not on special
        tokens, not on template words."""
        glue = np.array([f in (SPECIAL, TEMPLATE) for f in self.fields], dtype=bool)
        return float(self.mean[~glue].sum()) if len(glue) else 0.0

    def field_weights(self) -> dict[str, np.ndarray]:
        """Per field, (heads,) sums of that field's token weights; values sum to 1 per head."""
        out: dict[str, np.ndarray] = {}
        for j, f in enumerate(self.fields):
            out[f] = out.get(f, 0.0) + self.weights[:, j]
        return out


def explanation(
    encoder: TextEncoder, table: TextTable, side: str, k: int, attention: Tensor, seen: bool
) -> Explanation:
    """Build an Explanation from one entity's attention (heads, T) over its padded tokens."""
    labels = token_labels(encoder, table, k)
    n = len(labels)
    w = attention[:, :n].detach().float().cpu().numpy()
    return Explanation(
        side=side,
        index=k,
        text=table.texts[k],
        tokens=tuple(t for t, _ in labels),
        fields=tuple(f for _, f in labels),
        weights=w,
        seen_in_training=seen,
    )
