"""One-time conversion of checkpoints written with older state-dict key names.

The model classes know only today's names. `Recommender.load_checkpoint_state` passes a state
through `convert_legacy_state` when `has_legacy_keys` finds an old name, so every run folder
written before still opens (its file on disk is left as it is). Two renamings happened:

1. Before the towers (models/towers.py), the text models named their parts after the side:
   Enhanced `item_id.*`, `item_text.*`, `item_text_proj.*`, `item_fusion.*` (with attention)
   or `item_norm.*` (without); GPT2Recommender `item_id.*`, `item_proj.*`. Now
   `item_tower.{ids,text,text_proj,fusion}.*` (the same for users).
2. The Enhanced model's cross-attention was `CrossAttentionFusion` with `q_proj`, `k_proj`,
   `v_proj`, `out_proj`; it is `CrossAttention` with the textbook `W_q`, `W_k`, `W_v`, `W_o`
   (models/enhanced.py), the same tensors.

Names are unambiguous across both models, so the conversion needs no model: an old name maps
to one new name whatever the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

__all__ = ["ATTENTION_RENAMES", "TOWER_RENAMES", "convert_legacy_state", "has_legacy_keys"]

V = TypeVar("V")

_SIDES = ("user", "item")
# (old prefix, new prefix): the parts' names before the towers (renaming 1).
TOWER_RENAMES: tuple[tuple[str, str], ...] = tuple(
    (f"{side}_{old}.", f"{side}_tower.{new}.")
    for side in _SIDES
    for old, new in (
        ("id", "ids"),
        ("text", "text"),
        ("text_proj", "text_proj"),
        ("fusion", "fusion"),  # Enhanced with attention
        ("norm", "fusion"),  # Enhanced without attention: the fusion was a LayerNorm
        ("proj", "fusion"),  # GPT2Recommender: W [q ; z]
    )
)
# (old prefix, new prefix): the cross-attention's projections (renaming 2).
ATTENTION_RENAMES: tuple[tuple[str, str], ...] = tuple(
    (f"{side}_tower.fusion.{old}.", f"{side}_tower.fusion.{new}.")
    for side in _SIDES
    for old, new in (("q_proj", "W_q"), ("k_proj", "W_k"), ("v_proj", "W_v"), ("out_proj", "W_o"))
)


def _renamed(key: str, renames: tuple[tuple[str, str], ...]) -> str:
    for old, new in renames:
        if key.startswith(old):
            return new + key[len(old) :]
    return key


def has_legacy_keys(state: Mapping[str, object]) -> bool:
    """Whether `state` holds any key named the old way."""
    olds = tuple(old for old, _ in TOWER_RENAMES + ATTENTION_RENAMES)
    return any(key.startswith(olds) for key in state)


def convert_legacy_state(state: Mapping[str, V]) -> dict[str, V]:
    """A new dict: `state` with every old key renamed to today's name (tensors shared, not
    copied); other keys unchanged. Raises ValueError when two keys would get one name."""
    out: dict[str, V] = {}
    for key, value in state.items():
        new = _renamed(_renamed(key, TOWER_RENAMES), ATTENTION_RENAMES)
        if new in out:
            raise ValueError(f"checkpoint holds both an old and a new name for {new}")
        out[new] = value
    return out
