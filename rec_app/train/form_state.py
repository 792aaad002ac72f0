"""The Train form's values for a whole browser session, whatever the page or the model shown.

Streamlit forgets a widget's value on every run that does not draw it: leave the Train page,
or switch from MF to the enhanced model, and the widgets come back at their minimums. So the
form keeps a copy of its values under one plain (non-widget) key, `SAVED_KEY`: each run of
the page first copies the values its widgets hold into it (`sync`), and each widget, right
before it is drawn, gets its value back if Streamlit dropped it (`restore`). A value is put
back only in a run that draws its widget: one set for a widget that is not drawn would stay
behind as a plain session value and come back, stale, the next time Streamlit drops the
widget. Works on any mutable mapping (`st.session_state` in the app, a dict in tests).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

__all__ = ["SAVED_KEY", "PREFIX", "NOT_KEPT", "sync", "restore", "apply_preset"]

SAVED_KEY = "tr__saved"  # not a widget key: Streamlit never drops it
PREFIX = "tr_"  # every Train widget's key starts with it
# A confirmation is given for one launch, never carried over.
NOT_KEPT = frozenset({"tr_confirm_long"})


def _kept(key: str) -> bool:
    return key.startswith(PREFIX) and key != SAVED_KEY and key not in NOT_KEPT


def sync(state: MutableMapping[Any, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Save the values the widgets hold (typed, submitted or set by a preset in the last run);
    returns the saved copy. The first call of a session starts from `defaults`."""
    saved: dict[str, Any] = dict(defaults)
    saved.update(state.get(SAVED_KEY) or {})
    for key in list(state.keys()):
        if isinstance(key, str) and _kept(key):
            saved[key] = state[key]
    state[SAVED_KEY] = saved
    return saved


def restore(state: MutableMapping[Any, Any], key: str) -> str:
    """Call right before drawing widget `key`: its saved value comes back when Streamlit
    dropped it; returns `key` (for the widget's `key=`)."""
    saved = state.get(SAVED_KEY) or {}
    if key not in state and key in saved:
        state[key] = saved[key]
    return key


def apply_preset(state: MutableMapping[Any, Any], preset: str | None, presets: Mapping[str, Mapping[str, Any]]) -> None:
    """Set every field `preset` names (widget and saved copy alike); nothing for no preset."""
    if not preset or preset not in presets:
        return
    saved = dict(state.get(SAVED_KEY) or {})
    for field, value in presets[preset].items():
        state[f"{PREFIX}{field}"] = value
        saved[f"{PREFIX}{field}"] = value
    state[SAVED_KEY] = saved
