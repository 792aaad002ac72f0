"""Per-session state every page shares: the language, and the page frame (title, language).

The language lives in `st.session_state["lang"]`, a plain key (not a widget key: Streamlit
drops a widget's state on pages that do not draw the widget). A `?lang=zh` query parameter
seeds it for a fresh session, so links that open a new tab keep the language.
"""
from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from rec_core.i18n import LANGS, t

__all__ = ["LANG_KEY", "init_page", "lang", "language_switch", "tr"]

LANG_KEY = "lang"


def lang() -> str:
    """The session's language code ("en" or "zh")."""
    if LANG_KEY not in st.session_state:
        wanted = st.query_params.get("lang", "en")
        st.session_state[LANG_KEY] = wanted if wanted in LANGS else "en"
    value = st.session_state[LANG_KEY]
    return value if value in LANGS else "en"


def tr(key: str, **fmt: object) -> str:
    """`t(key, <session language>, **fmt)`: the UI string in the session's language."""
    return t(key, lang(), **fmt)


_NAV = (("app.py", "nav.home", ":material/home:"), ("pages/1_Train.py", "nav.train", ":material/rocket_launch:"),
        ("pages/2_Compare.py", "nav.compare", ":material/bar_chart:"))


def init_page(title_key: str, icon: str) -> str:
    """Set the page's title and icon, draw the translated page links in the sidebar (the
    default navigation is hidden in .streamlit/config.toml: it cannot be translated and
    would call the home page "app"); returns the language."""
    code = lang()
    st.set_page_config(page_title=f"{t(title_key, code)} · {t('app.name', code)}", page_icon=icon, layout="wide")
    with st.sidebar:
        for path, key, page_icon in _NAV:
            try:
                st.page_link(path, label=t(key, code), icon=page_icon)
            except StreamlitAPIException:
                pass  # a page run on its own (no multipage app around it): nothing to link to
    return code


def _on_language_change() -> None:
    choice = st.session_state.get("_lang_widget")
    if choice in LANGS:
        st.session_state[LANG_KEY] = choice
        st.query_params["lang"] = choice


def language_switch() -> str:
    """The EN / 中文 switch (home page); every page and exported figure follows it."""
    code = lang()
    st.session_state["_lang_widget"] = code  # keep the widget in step when coming back to home
    st.segmented_control(
        t("lang.label", code), options=list(LANGS), format_func=lambda c: t(f"lang.{c}", code),
        key="_lang_widget", on_change=_on_language_change, label_visibility="collapsed",
    )
    return lang()
