"""Figures as files: the chart toolbar's export settings (`chart_config`, slide resolution) and
rendering figures to PNG / SVG through kaleido and Debian's Chromium (`export_images`,
`export_zip`), retried while the browser starts."""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from rec_app.figures.style import SLIDE

__all__ = ["EXPORT_ATTEMPTS", "chart_config", "export_images", "export_zip"]


def chart_config(filename: str, fmt: str = "png") -> dict[str, Any]:
    """`st.plotly_chart(config=...)`: the toolbar's camera saves `fmt` (png | svg) at slide size."""
    if fmt not in ("png", "svg"):
        raise ValueError(f"format must be png or svg, got {fmt!r}")
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": fmt, "filename": filename, **SLIDE},
        "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    }


def _browser_env() -> None:
    """Point kaleido at the system Chromium when none is configured (no browser download)."""
    if not os.environ.get("BROWSER_PATH"):
        found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if found:
            os.environ["BROWSER_PATH"] = found


# kaleido 1.x can take the JavaScript context of the blank tab for its page's when the browser
# is slow to commit the navigation (seen on a busy 2-core machine): the first render then fails
# with "kaleido_scopes is not defined". A fresh browser renders the same figures; other errors
# are not retried.
EXPORT_ATTEMPTS = 3


def _browser_not_ready(exc: BaseException) -> bool:
    return "kaleido_scopes is not defined" in str(exc)


def export_images(
    figures: Mapping[str, go.Figure], formats: Sequence[str] = ("png", "svg"), timeout_s: float = 120
) -> dict[str, bytes]:
    """{"<name>.<fmt>": bytes} for every figure and format, at slide resolution.

    One headless Chromium renders them all (starting one costs seconds); a browser whose page
    was not ready is started again (`EXPORT_ATTEMPTS`). Runs in a fresh thread with its own
    event loop, so it works under Streamlit's running loop too.
    """
    import asyncio
    import threading

    import kaleido

    _browser_env()
    out: dict[str, bytes] = {}
    errors: list[BaseException] = []

    async def render() -> None:
        async with kaleido.Kaleido(n=1, timeout=timeout_s) as k:
            for name, fig in figures.items():
                for fmt in formats:
                    opts = {
                        "format": fmt,
                        "width": SLIDE["width"],
                        "height": SLIDE["height"],
                        "scale": SLIDE["scale"] if fmt == "png" else 1,
                    }
                    out[f"{name}.{fmt}"] = await k.calc_fig(fig, opts=opts)

    def work() -> None:
        for attempt in range(1, EXPORT_ATTEMPTS + 1):
            try:
                asyncio.run(render())
                return
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                if attempt < EXPORT_ATTEMPTS and _browser_not_ready(exc):
                    out.clear()
                    continue
                errors.append(exc)
                return

    thread = threading.Thread(target=work, name="rec_core-figure-export", daemon=True)
    thread.start()
    thread.join(timeout_s * max(1, len(figures)) + 30)
    if errors:
        raise RuntimeError(f"figure export failed: {errors[0]}") from errors[0]
    if thread.is_alive():
        raise RuntimeError("figure export timed out")
    return out


def export_zip(figures: Mapping[str, go.Figure], formats: Sequence[str] = ("png", "svg")) -> bytes:
    """A ZIP of `export_images(figures, formats)`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in export_images(figures, formats).items():
            zf.writestr(name, data)
    return buffer.getvalue()
