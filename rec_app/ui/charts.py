"""Drawing figures in a page: the toolbar exports at slide resolution in the chosen format,
and one button renders every figure of the page to PNG + SVG (a ZIP) on demand."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import plotly.graph_objects as go
import streamlit as st

from rec_app.figures import chart_config, export_zip
from rec_app.i18n import t

__all__ = ["show_figure", "export_all_button", "FORMAT_KEY"]

FORMAT_KEY = "image_format"


def show_figure(fig: go.Figure, name: str, key: str) -> None:
    """`st.plotly_chart` with our export settings; `theme=None` so that what is shown is
    exactly what is exported (fonts included)."""
    fmt = st.session_state.get(FORMAT_KEY, "png")
    st.plotly_chart(fig, key=key, theme=None, config=chart_config(name, fmt if fmt in ("png", "svg") else "png"))


def export_all_button(figures: Callable[[], dict[str, go.Figure]], filename: str, lang: str) -> None:
    """A download of every figure as PNG (3200 x 1800) and SVG, rendered only when clicked
    (headless Chromium takes seconds; a page rerun must not pay that)."""

    def build() -> bytes:
        try:
            return export_zip(figures())
        except Exception as exc:  # noqa: BLE001 - runs off the page: the message goes into the download
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as zf:
                zf.writestr("export-error.txt", f"{t('export.failed', lang)}\n\n{type(exc).__name__}: {exc}\n")
            return buffer.getvalue()

    st.download_button(
        t("export.figures_zip", lang),
        data=build,
        file_name=filename,
        mime="application/zip",
        on_click="ignore",
        help=t("export.figures_zip_help", lang),
        key=f"zip_{filename}",
    )
