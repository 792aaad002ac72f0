"""Cross-attention explanations as tables people can read, plot and export.

A `TokenView` is one entity's `Explanation` ready to show: tokens as display strings (GPT-2
byte-level pieces decoded, a lone space shown as `␣`), optionally joined into words
(WordPiece `##` pieces into the word they continue; byte-level pieces of one word, such as
`H` `ist` `ory`, likewise), with their attention summed so each head's row still sums to 1.
Tidy tables (`token_table`, `field_table`) hold one row per (entity, token or field, head).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from rec_core.analysis.entities import Side, check_side, entity_labels
from rec_core.analysis.loading import RunNotAnalysable
from rec_core.data.interactions import InteractionData
from rec_core.errors import ConfigError, RecCoreError
from rec_core.evaluate import top_items
from rec_core.split import Split

__all__ = [
    "FIELD_ORDER",
    "TokenView",
    "PairView",
    "display_token",
    "join_pieces",
    "token_view",
    "explain",
    "explain_many",
    "explain_pair",
    "content_share",
    "recommended_items",
    "field_matrix",
    "token_table",
    "field_table",
    "shared_max",
    "ordered_fields",
]

# Metadata fields first (items, then users), then whatever a CSV template adds, then glue.
FIELD_ORDER: tuple[str, ...] = ("title", "year", "genres", "age", "gender", "occupation")
_LAST = ("template", "special")


@dataclass(frozen=True, eq=False)
class TokenView:
    """One entity's attention, ready to draw: weights (heads, tokens), each row sums to 1."""

    label: str  # the entity as people read it (title, or user description)
    side: str  # "user" or "item"
    index: int  # contiguous entity index
    entity_id: str  # the dataset's raw id
    tokens: tuple[str, ...]  # display strings, one per column
    fields: tuple[str, ...]  # field of each column (title, year, ..., template, special)
    weights: np.ndarray  # (heads, tokens) float64
    seen_in_training: bool  # False: an unseen id; the query was the neutral (cold) embedding

    @property
    def mean(self) -> np.ndarray:
        """(tokens,) attention averaged over heads."""
        return self.weights.mean(axis=0)

    @property
    def n_heads(self) -> int:
        return int(self.weights.shape[0])


@dataclass(frozen=True, eq=False)
class PairView:
    """A user and an item explained together, with the model's score of the pair."""

    user: TokenView
    item: TokenView
    score: float


def display_token(token: str) -> str:
    """A token as a column label: outer spaces dropped, a space-only token as `␣`, newline `↵`."""
    shown = token.replace("\n", "↵").replace("\t", "⇥").strip()
    return shown if shown else "␣"


def _continues(prev: str, prev_field: str, token: str, field: str, byte_level: bool) -> bool:
    if token.startswith("##") and len(token) > 2:
        return True  # WordPiece: the piece continues the previous word
    if not byte_level or not prev or not token or prev_field != field or "special" in (field, prev_field):
        return False
    # Byte-level BPE marks a new word by a leading space; a piece without one continues the
    # word when both sides are letters or digits ("H" "ist" "ory", "19" "6" "5").
    return not token[0].isspace() and prev[-1].isalnum() and token[0].isalnum()


def join_pieces(
    tokens: Sequence[str], fields: Sequence[str], weights: np.ndarray
) -> tuple[list[str], list[str], np.ndarray]:
    """Tokens joined into words, their fields, and weights (heads, words) summed per word."""
    byte_level = any(t[:1].isspace() for t in tokens) and not any(t.startswith("##") for t in tokens)
    words: list[str] = []
    word_fields: list[str] = []
    groups: list[list[int]] = []
    for j, (tok, field) in enumerate(zip(tokens, fields)):
        if groups and _continues(words[-1], word_fields[-1], tok, field, byte_level):
            words[-1] += tok[2:] if tok.startswith("##") else tok
            groups[-1].append(j)
        else:
            words.append(tok)
            word_fields.append(field)
            groups.append([j])
    summed = np.stack([weights[:, g].sum(axis=1) for g in groups], axis=1) if groups else weights[:, :0]
    return words, word_fields, summed


def token_view(explanation: Any, label: str, entity_id: str, join: bool = True) -> TokenView:
    """A `TokenView` of an `Explanation` (`join`: pieces joined into words, see module doc)."""
    tokens, fields = list(explanation.tokens), list(explanation.fields)
    weights = np.asarray(explanation.weights, dtype=np.float64)
    if join:
        tokens, fields, weights = join_pieces(tokens, fields, weights)
    return TokenView(
        label=label,
        side=explanation.side,
        index=int(explanation.index),
        entity_id=entity_id,
        tokens=tuple(display_token(t) for t in tokens),
        fields=tuple(fields),
        weights=weights,
        seen_in_training=bool(explanation.seen_in_training),
    )


def explain(model: Any, data: InteractionData, side: Side, index: int, join: bool = True) -> TokenView:
    """The cross-attention of one user or item of `model` as a TokenView."""
    check_side(side)
    n = data.n_items if side == "item" else data.n_users
    if not 0 <= int(index) < n:
        raise RecCoreError(f"{side} index {index} does not exist (the dataset has {n} {side}s)")
    method = getattr(model, f"explain_{side}", None)
    if method is None:
        raise RunNotAnalysable(f"the {getattr(model, 'name', '?')} model has no cross-attention to explain")
    try:
        expl = method(int(index))
    except ConfigError as exc:
        if exc.field == "use_user_text":
            raise RunNotAnalysable(
                "This model reads no user text (users are ID-only), so users have no "
                "attention weights; explain items instead."
            ) from exc
        raise RunNotAnalysable(f"This model cannot explain {side}s: {exc}") from exc
    ids = data.item_ids if side == "item" else data.user_ids
    return token_view(expl, entity_labels(data, side)[int(index)], str(ids[int(index)]), join)


def explain_many(
    model: Any, data: InteractionData, side: Side, indices: Sequence[int], join: bool = True
) -> list[TokenView]:
    """TokenViews of several entities of one side, in the given order."""
    return [explain(model, data, side, k, join) for k in indices]


def explain_pair(model: Any, data: InteractionData, user: int, item: int, join: bool = True) -> PairView:
    """The user's and the item's attention, and the model's score of the pair."""
    u, i = explain(model, data, "user", user, join), explain(model, data, "item", item, join)
    with torch.inference_mode():
        score = model.score(torch.tensor([int(user)]), torch.tensor([int(item)]))
    return PairView(user=u, item=i, score=float(score.reshape(-1)[0]))


def content_share(model: Any, side: Side) -> float | None:
    """Share of the cross-attention (mean over heads, then over every entity of `side`) on
    tokens of field values: not on special tokens, not on template words. None when that side
    reads no text. Every entity at once, from the same encoding the explanations use."""
    from rec_core.text.tokens import content_mask

    check_side(side)
    tower = model.tower(side)
    if tower.text is None or not getattr(tower, "use_attention", False):
        return None
    n = model.n_users if side == "user" else model.n_items
    was = model.training
    model.eval()
    try:
        with torch.inference_mode():
            att = model.represent(side, torch.arange(n, device=model.seen_items.device))["attention"]
    finally:
        model.train(was)
    att = att.float().mean(1).cpu()  # (n, T)
    table = model.user_table if side == "user" else model.item_table
    content = content_mask(model.encoder, table, att.shape[1])
    return float((att * content).sum(1).mean())


def recommended_items(model: Any, data: InteractionData, split: Split, user: int, k: int = 5) -> list[int]:
    """The user's top-k items, ranked as the test evaluation ranks them (`evaluate.top_items`:
    seen items masked, the split's candidates only)."""
    items = top_items(model, data, split, [int(user)], k, "test")[1][0]
    return [int(i) for i in items if i >= 0]


def ordered_fields(fields: Sequence[str]) -> list[str]:
    """`fields` deduplicated in reading order: metadata fields, others, then template, special."""
    present = list(dict.fromkeys(fields))
    known = [f for f in FIELD_ORDER if f in present]
    other = [f for f in present if f not in FIELD_ORDER and f not in _LAST]
    return known + other + [f for f in _LAST if f in present]


def field_matrix(view: TokenView) -> tuple[list[str], np.ndarray]:
    """(fields, (heads + 1, fields) weights summed per field; last row the mean over heads)."""
    fields = ordered_fields(view.fields)
    cols = np.array(view.fields)
    per_head = np.stack([view.weights[:, cols == f].sum(axis=1) for f in fields], axis=1)
    return fields, np.vstack([per_head, per_head.mean(axis=0, keepdims=True)])


def _head_names(n_heads: int) -> list[str]:
    return [f"head {h + 1}" for h in range(n_heads)] + ["mean"]


def token_table(views: Sequence[TokenView]) -> pd.DataFrame:
    """Tidy: one row per (entity, token position, head or mean) with the weight."""
    frames = []
    for v in views:
        rows = np.vstack([v.weights, v.mean[None, :]])
        heads = _head_names(v.n_heads)
        frames.append(
            pd.DataFrame(
                {
                    "side": v.side,
                    "id": v.entity_id,
                    "entity": v.label,
                    "position": np.tile(np.arange(len(v.tokens)), len(heads)),
                    "token": np.tile(np.array(v.tokens, dtype=object), len(heads)),
                    "field": np.tile(np.array(v.fields, dtype=object), len(heads)),
                    "head": np.repeat(heads, len(v.tokens)),
                    "weight": rows.reshape(-1),
                }
            )
        )
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["side", "id", "entity", "position", "token", "field", "head", "weight"])
    )


def field_table(views: Sequence[TokenView]) -> pd.DataFrame:
    """Tidy: one row per (entity, field, head or mean) with the summed weight."""
    frames = []
    for v in views:
        fields, m = field_matrix(v)
        heads = _head_names(v.n_heads)
        frames.append(
            pd.DataFrame(
                {
                    "side": v.side,
                    "id": v.entity_id,
                    "entity": v.label,
                    "field": np.tile(fields, len(heads)),
                    "head": np.repeat(heads, len(fields)),
                    "weight": m.reshape(-1),
                }
            )
        )
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["side", "id", "entity", "field", "head", "weight"])
    )


def shared_max(views: Sequence[TokenView]) -> float:
    """The largest weight (any head or the mean) over `views`: one colour scale for all."""
    return max((float(v.weights.max()) for v in views if v.weights.size), default=1.0)
