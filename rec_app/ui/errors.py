"""One way to show errors: a message in the page, never a traceback.

`page_guard()` wraps a page body. A `RecCoreError` is written for people, so its message is
shown as is; anything else is shown as its type and message, and the traceback goes to the
server log (stderr) for whoever runs the app. Streamlit's own control flow (st.stop,
st.rerun, page switches) derives from BaseException and passes through untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from rec_core.errors import RecCoreError
from rec_app.train.field_labels import labelled_message
from rec_app.i18n import t

__all__ = ["page_guard", "show_error", "error_text"]

log = logging.getLogger("rec_core.app")


def error_text(exc: BaseException, lang: str = "en") -> str:
    """The message to show for `exc`: its own text for our errors (led by the on-screen label
    of the field it names, the field in parentheses), type + text otherwise."""
    if isinstance(exc, RecCoreError):
        field = getattr(exc, "field", None)
        return labelled_message(field, str(exc), lang) if isinstance(field, str) else str(exc)
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def show_error(exc: BaseException, lang: str, context_key: str = "error.generic") -> None:
    """`st.error` with a translated lead-in and the error's message."""
    if not isinstance(exc, RecCoreError):
        log.error("unexpected error in the app", exc_info=exc)
    detail = error_text(exc, lang)
    if lang != "en" and not any("\u4e00" <= ch <= "\u9fff" for ch in detail):
        # The library writes its messages in English; say so rather than switch language unannounced.
        detail = f"{t('error.english_detail', lang)}\n\n{detail}"
    # A Material Symbol, not the ⚠️ emoji: that is a missing glyph without an emoji font.
    st.error(f"{t(context_key, lang)}\n\n{detail}", icon=":material/warning:")


@contextmanager
def page_guard(lang: str) -> Iterator[None]:
    """Run a page body; an exception ends the body with a clear message, not a traceback."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - the page must always render something readable
        show_error(exc, lang)
