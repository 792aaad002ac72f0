"""Plotly figures of the app, in one visual style, with every label from `rec_core.i18n`.

`Style(lang, presentation)` sets the language and the size of fonts, lines and markers
(presentation mode is for a projector: everything larger). The font family names a CJK font
first, so Chinese labels render in the browser and in exported PNG/SVG alike.
`export_images` renders figures at slide resolution (1600 x 900, scale 2) through kaleido,
reusing one headless Chromium for all of them.
"""
from __future__ import annotations

import io
import math
import os
import shutil
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rec_core.i18n import metric_label, segment_label, t

__all__ = ["FONT_FAMILY", "SLIDE", "Style", "metric_bars", "segment_bars", "training_curves",
           "chart_config", "export_images", "export_zip"]

FONT_FAMILY = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, PingFang SC, Arial, sans-serif"
SLIDE = {"width": 1600, "height": 900, "scale": 2}  # 16:9 at 3200 x 1800 pixels
# Colour-blind-safe palette (Okabe-Ito), so groups stay distinguishable on any projector.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")


@dataclass(frozen=True)
class Style:
    lang: str = "en"
    presentation: bool = False  # larger fonts, lines and markers for slides and projectors

    @property
    def font(self) -> int:
        return 22 if self.presentation else 13

    @property
    def title(self) -> int:
        return 28 if self.presentation else 16

    @property
    def line(self) -> float:
        return 4.0 if self.presentation else 2.0

    @property
    def marker(self) -> int:
        return 11 if self.presentation else 6

    @property
    def height(self) -> int:
        return 560 if self.presentation else 420


def _layout(fig: go.Figure, style: Style, title: str) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        title={"text": title, "font": {"size": style.title}, "x": 0.0, "xanchor": "left"},
        font={"family": FONT_FAMILY, "size": style.font, "color": "#222"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0.0, "title": {"text": ""}},
        margin={"l": 60, "r": 20, "t": 90 if style.presentation else 70, "b": 50},
        height=style.height,
        colorway=list(PALETTE),
        hoverlabel={"font": {"family": FONT_FAMILY}},
    )
    fig.update_xaxes(showline=True, linecolor="#888", linewidth=1 + style.presentation)
    fig.update_yaxes(showline=True, linecolor="#888", gridcolor="#e6e6e6", zeroline=False)
    return fig


def _finite(x: Any) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def metric_bars(summary: pd.DataFrame, metrics: Sequence[str], style: Style, title: str | None = None) -> go.Figure:
    """Grouped bars: x = metrics, one bar per group (summary row), error bars = std over seeds.

    `summary` has columns `group`, `n`, `<metric>`, `<metric> std` (compare_table.summary_table).
    """
    fig = go.Figure()
    labels = [metric_label(m, style.lang) for m in metrics]
    for i, (_, row) in enumerate(summary.iterrows()):
        means = [_finite(row[m]) for m in metrics]
        stds = [(_finite(row[f"{m} std"]) or 0.0) if int(row["n"]) > 1 else 0.0 for m in metrics]
        fig.add_trace(go.Bar(
            name=str(row["group"]), x=labels, y=means, marker_color=PALETTE[i % len(PALETTE)],
            error_y={"type": "data", "array": stds, "visible": int(row["n"]) > 1,
                     "thickness": style.line * 0.75, "width": style.marker},
            hovertemplate="%{x}: %{y:.4f}<extra>%{fullData.name}</extra>",
        ))
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_yaxes(title_text=t("fig.value", style.lang), rangemode="tozero")
    return _layout(fig, style, title or t("fig.metrics_title", style.lang))


def segment_bars(segments: pd.DataFrame, metric: str, kind: str, style: Style) -> go.Figure:
    """Bars per segment (x) and group (colour) for item popularity (`kind="item"`) or user
    activity (`kind="user"`) segments; `segments` as compare_table.segment_table returns."""
    frame = segments[segments["kind"] == kind]
    fig = go.Figure()
    for i, group in enumerate(dict.fromkeys(frame["group"])):
        part = frame[frame["group"] == group]
        fig.add_trace(go.Bar(
            name=str(group), x=[segment_label(s, style.lang) for s in part["segment"]], y=part["mean"],
            marker_color=PALETTE[i % len(PALETTE)],
            error_y={"type": "data", "array": [s if n > 1 else 0.0 for s, n in zip(part["std"], part["n_runs"])],
                     "visible": bool((part["n_runs"] > 1).any()), "thickness": style.line * 0.75},
            customdata=part["n_users"], hovertemplate="%{x}: %{y:.4f} (%{customdata:.0f} users)<extra></extra>",
        ))
    key = "fig.segments_item" if kind == "item" else "fig.segments_user"
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_yaxes(title_text=metric_label(metric, style.lang), rangemode="tozero")
    fig.update_xaxes(title_text=t(key + "_axis", style.lang))
    return _layout(fig, style, t(key, style.lang, metric=metric_label(metric, style.lang)))


def training_curves(histories: Mapping[str, Sequence[dict[str, Any]]], style: Style,
                    metric: str = "ndcg@10") -> go.Figure:
    """Two panels over epochs: training loss (left) and validation `metric` (right).

    One run: every loss part (bpr, contrastive, total) in its own colour, legend on top.
    Several runs: each run's total loss and metric in the run's colour, one legend entry per
    run, legend below the panels (names of seed groups are long).
    """
    single = len(histories) == 1
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=(
        t("fig.loss", style.lang), t("fig.valid_metric", style.lang, metric=metric_label(metric, style.lang))))
    for i, (name, history) in enumerate(histories.items()):
        color = PALETTE[i % len(PALETTE)]
        epochs = [h.get("epoch") for h in history]
        parts = sorted({k for h in history for k in (h.get("loss") or {})}, key=lambda k: (k == "total", k))
        for j, part in enumerate(parts if single else [p for p in parts if p == "total"]):
            fig.add_trace(go.Scatter(
                x=epochs, y=[(h.get("loss") or {}).get(part) for h in history], mode="lines+markers",
                name=t(f"loss.{part}", style.lang, default=part) if single else name, legendgroup=name,
                line={"color": PALETTE[j % len(PALETTE)] if single else color, "width": style.line},
                marker={"size": style.marker}), row=1, col=1)
        valid = [(h.get("epoch"), (h.get("valid") or {}).get(metric)) for h in history if h.get("valid")]
        fig.add_trace(go.Scatter(
            x=[e for e, _ in valid], y=[v for _, v in valid], mode="lines+markers",
            name=metric_label(metric, style.lang) if single else name, legendgroup=name, showlegend=single,
            line={"color": PALETTE[3] if single else color, "width": style.line},
            marker={"size": style.marker}), row=1, col=2)
    longest = max((len(h) for h in histories.values()), default=0)
    fig.update_xaxes(title_text=t("fig.epoch", style.lang), dtick=1 if longest <= 12 else None)
    fig.update_annotations(font_size=style.font + 1, yshift=4)
    _layout(fig, style, t("fig.curves_title", style.lang))
    if not single:
        fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0.0},
                          margin={"b": 60 + 28 * ((len(histories) + 1) // 2)},
                          height=style.height + 28 * ((len(histories) + 1) // 2))
    else:
        fig.update_layout(margin={"t": 110 if style.presentation else 95})
    return fig


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


def export_images(figures: Mapping[str, go.Figure], formats: Sequence[str] = ("png", "svg"),
                  timeout_s: float = 120) -> dict[str, bytes]:
    """{"<name>.<fmt>": bytes} for every figure and format, at slide resolution.

    One headless Chromium renders them all (starting one costs seconds). Runs in a fresh
    thread with its own event loop, so it works under Streamlit's running loop too.
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
                    opts = {"format": fmt, "width": SLIDE["width"], "height": SLIDE["height"],
                            "scale": SLIDE["scale"] if fmt == "png" else 1}
                    out[f"{name}.{fmt}"] = await k.calc_fig(fig, opts=opts)

    def work() -> None:
        try:
            asyncio.run(render())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)

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
