"""`Explanation`: cross-attention weights of one user or item, labelled token by token.

Follows bertviz's data contract: weights (heads, tokens) with the token strings; each row
sums to 1. Each token also carries the metadata field it came from (title, year, genres;
age, gender, occupation), so weights can be summed per field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rec_core.data.interactions import TextTable
from rec_core.errors import ConfigError
from rec_core.text import TextEncoder, token_labels
from rec_core.text.tokens import SPECIAL, TEMPLATE

__all__ = ["Explanation", "explain_entity", "explanation"]


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


def explain_entity(model: Any, side: str, k: int) -> Explanation:
    """The Enhanced model's (`model`) cross-attention of entity `k` of `side` ("user" or
    "item"): its ID query over its own tokens, in eval mode, labelled token by token."""
    if not model.config.use_attention:
        raise ConfigError("use_attention", "this model fuses without attention; nothing to explain")
    if model.tower(side).text is None:
        raise ConfigError("use_user_text", "users have no text in this model")
    n = model.n_users if side == "user" else model.n_items
    if not 0 <= k < n:
        raise ConfigError(side, f"index {k} outside [0, {n})")
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            rep = model.represent(side, torch.tensor([k], device=model.seen_items.device))
    finally:
        model.train(was)
    table = model.user_table if side == "user" else model.item_table
    seen = bool(model.seen_mask(side)[k])
    return explanation(model.encoder, table, side, k, rep["attention"][0], seen)
