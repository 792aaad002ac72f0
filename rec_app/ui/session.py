"""Per-session state every page shares: the language, and the page frame (title, language).

The language lives in `st.session_state["lang"]`, a plain key (not a widget key: Streamlit
drops a widget's state on pages that do not draw the widget). A `?lang=zh` query parameter
seeds it for a fresh session, so links that open a new tab keep the language.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

from rec_app.i18n import LANGS, t

__all__ = ["LANG_KEY", "init_page", "lang"]

LANG_KEY = "lang"


def lang() -> str:
    """The session's language code ("en" or "zh")."""
    if LANG_KEY not in st.session_state:
        wanted = st.query_params.get("lang", "en")
        st.session_state[LANG_KEY] = wanted if wanted in LANGS else "en"
    value = st.session_state[LANG_KEY]
    return value if value in LANGS else "en"


_PAGES_DIR = Path(__file__).resolve().parents[2] / "pages"  # rec_app/ui/session.py -> the repo root
_ICONS = {
    "train": ":material/rocket_launch:",
    "compare": ":material/bar_chart:",
    "attention": ":material/visibility:",
    "embeddings": ":material/scatter_plot:",
    "error_analysis": ":material/troubleshoot:",
}


def _discover() -> tuple[tuple[str, str, str], ...]:
    """(path, i18n key, icon) of the home page and every `pages/N_Name.py`, in order."""
    found = [("app.py", "nav.home", ":material/home:")]

    def number(file: Path) -> int:
        head = file.name.split("_", 1)[0]
        return int(head) if head.isdigit() else 10**6

    for file in sorted(_PAGES_DIR.glob("[0-9]*_*.py"), key=lambda f: (number(f), f.name)):
        name = file.stem.split("_", 1)[1].lower()
        found.append((f"pages/{file.name}", f"nav.{name}", _ICONS.get(name, ":material/article:")))
    return tuple(found)


# Every page of the app, discovered from pages/ like Streamlit does (so pages added later are
# linked too): the one list of page links.
_NAV = _discover()


def init_page(title_key: str, icon: str) -> str:
    """Set the page's title and icon, draw the translated page links in the sidebar (the
    default navigation is hidden in .streamlit/config.toml: it cannot be translated and
    would call the home page "app"); returns the language."""
    code = lang()
    st.set_page_config(page_title=f"{t(title_key, code)} · {t('app.name', code)}", page_icon=icon, layout="wide")
    with st.sidebar:
        for path, key, page_icon in _NAV:
            try:
                st.page_link(
                    path,
                    label=t(key, code, default=Path(path).stem.split("_", 1)[-1].replace("_", " ")),
                    icon=page_icon,
                )
            except StreamlitAPIException:
                pass  # a page run on its own (no multipage app around it): nothing to link to
    return code
