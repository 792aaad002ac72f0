"""What every page draws around its own content, beside `session.init_page`:

- `page_icon(page)`: the page's browser-tab icon as inline SVG. A `:material/...:` page icon
  makes Streamlit's frontend fetch the glyph from fonts.gstatic.com, and the app must work
  without any network (a defence room); Streamlit turns SVG markup into a `data:` address.
- `language_sidebar()`: the English / 简体中文 switch in the sidebar, the app's one language switch,
  so the language can be changed from any page.
- `remember(key, default)`: a widget's value survives a visit to another page. Streamlit
  forgets the state of a widget that a run does not draw, so values are copied to a plain
  key while their page is shown and restored before the widget is drawn again.
- `figure_options(lang)`: presentation mode and the toolbar image format, one pair of
  widgets for Compare and the analysis pages; returns the figure `Style`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from rec_app.ui import session
from rec_app.ui.charts import FORMAT_KEY
from rec_app.figures import Style
from rec_app.i18n import LANGS, t

__all__ = [
    "PAGE_ICONS",
    "page_icon",
    "language_sidebar",
    "remember",
    "figure_options",
    "PRESENTATION_KEY",
    "LANG_WIDGET_KEY",
]

LANG_WIDGET_KEY = "_lang_sidebar"
PRESENTATION_KEY = "cmp_presentation"  # the same key on every page: one switch for the whole app
_KEPT = "_kept:"  # prefix of the plain keys holding remembered widget values
_KEPT_KEYS = "_kept_keys"  # the widget keys being remembered (a plain key: it outlives pages)

_BLUE = "#0072B2"
# 24 x 24 glyphs drawn for this app (home, rocket, bar chart, eye, scatter, magnifier).
PAGE_ICONS: dict[str, str] = {
    "home": f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="{_BLUE}" '
    'd="M12 3 2 12h3v8h5v-5h4v5h5v-8h3z"/></svg>',
    "train": f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="{_BLUE}" '
    'd="M12 2c3 2.5 4.5 6 4.5 10l2.5 3v4l-4-2H9l-4 2v-4l2.5-3C7.5 8 9 4.5 12 2z"/>'
    '<circle cx="12" cy="10" r="2" fill="#fff"/><path fill="#E69F00" d="M10 19h4l-2 4z"/></svg>',
    "compare": f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g fill="{_BLUE}">'
    '<rect x="3" y="11" width="4" height="10"/><rect x="10" y="4" width="4" height="17"/>'
    '<rect x="17" y="8" width="4" height="13"/></g></svg>',
    "attention": f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="{_BLUE}" '
    'd="M12 5C6.5 5 2.7 9 1 12c1.7 3 5.5 7 11 7s9.3-4 11-7c-1.7-3-5.5-7-11-7z"/>'
    '<circle cx="12" cy="12" r="4" fill="#fff"/><circle cx="12" cy="12" r="2" fill="#222"/></svg>',
    "embeddings": f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g fill="{_BLUE}">'
    '<circle cx="6" cy="17" r="2.5"/><circle cx="10" cy="9" r="2.5"/><circle cx="17" cy="6" r="2.5"/>'
    '</g><g fill="#E69F00"><circle cx="15" cy="15" r="2.5"/><circle cx="19" cy="19" r="2.5"/></g></svg>',
    "error_analysis": f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><circle cx="10" cy="10" r="6" '
    f'fill="none" stroke="{_BLUE}" stroke-width="3"/><path stroke="{_BLUE}" stroke-width="3.5" '
    'stroke-linecap="round" d="M15 15l6 6"/></svg>',
}


def page_icon(page: str) -> str:
    """The inline SVG icon of `page` (home, train, compare, attention, embeddings,
    error_analysis); the compare icon for an unknown page."""
    return PAGE_ICONS.get(page, PAGE_ICONS["compare"])


def _save_remembered() -> None:
    """Copy every remembered widget's current value to its plain key (at the start of a run,
    the previous page's widget values are still in the session state)."""
    for key in st.session_state.get(_KEPT_KEYS, ()):
        if key in st.session_state:
            st.session_state[_KEPT + key] = st.session_state[key]


def remember(key: str, default: Any = None, options: Sequence[Any] | None = None) -> None:
    """Call right before drawing the widget `key` (drawn without its own default): its value
    comes back from the last visit, else `default` (when not None) is its first value. With
    `options`, a value no longer among them (a run deleted, another side chosen) gives way to
    `default`."""
    kept = set(st.session_state.get(_KEPT_KEYS, ()))
    if key not in kept:
        st.session_state[_KEPT_KEYS] = tuple(sorted(kept | {key}))
    if key not in st.session_state and _KEPT + key in st.session_state:
        st.session_state[key] = st.session_state[_KEPT + key]
    if options is not None and key in st.session_state and st.session_state[key] not in list(options):
        del st.session_state[key]
    if key in st.session_state:
        # Set again through the session state API: a widget of the same key on another page is
        # another widget to Streamlit, and takes over only a value set this way.
        st.session_state[key] = st.session_state[_KEPT + key] = st.session_state[key]
    elif default is not None:
        st.session_state[key] = default


def _on_language_change() -> None:
    choice = st.session_state.get(LANG_WIDGET_KEY)
    if choice in LANGS:
        st.session_state[session.LANG_KEY] = choice
        st.query_params["lang"] = choice


def language_sidebar() -> str:
    """The language switch in the sidebar (every page draws it); returns the language. Also
    keeps the remembered widget values of the page the user comes from."""
    _save_remembered()
    code = session.lang()
    st.session_state[LANG_WIDGET_KEY] = code  # in step with a ?lang= link or another tab's choice
    with st.sidebar:
        st.segmented_control(
            t("lang.label", code),
            options=list(LANGS),
            format_func=lambda c: t(f"lang.{c}", code),
            key=LANG_WIDGET_KEY,
            on_change=_on_language_change,
        )
    return session.lang()


def figure_options(lang: str) -> Style:
    """Presentation mode and the toolbar image format in the sidebar (remembered across
    pages); returns the figure Style."""
    with st.sidebar:
        remember(PRESENTATION_KEY, False)
        presentation = st.toggle(
            t("compare.presentation", lang), key=PRESENTATION_KEY, help=t("compare.presentation_help", lang)
        )
        remember(FORMAT_KEY, "png")
        st.radio(
            t("compare.image_format", lang),
            ["png", "svg"],
            key=FORMAT_KEY,
            horizontal=True,
            format_func=str.upper,
            help=t("compare.image_format_help", lang),
        )
    return Style(lang, bool(presentation))
