"""Plotly figures of the app, in one visual style, with every label from `rec_app.i18n`.

`Style(lang, presentation)` sets the language and the size of fonts, lines and markers
(presentation mode is for a projector: everything larger). The font family names a CJK font
first, so Chinese labels render in the browser and in exported PNG/SVG alike.
`export_images` renders figures at slide resolution (1600 x 900, scale 2) through kaleido,
reusing one headless Chromium for all of them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from rec_app.i18n import metric_label, part_metric_label, segment_label, t

__all__ = [
    "FONT_FAMILY",
    "SLIDE",
    "PALETTE",
    "Style",
    "run_colours",
    "metric_bars",
    "segment_bars",
    "training_curves",
]

FONT_FAMILY = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, PingFang SC, Arial, sans-serif"
SLIDE = {"width": 1600, "height": 900, "scale": 2}  # 16:9 at 3200 x 1800 pixels
# Colour-blind-safe palette (Okabe-Ito), so groups stay distinguishable on any projector.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")


DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")  # runs sharing a colour (seeds of a group)


def run_colours(names: Sequence[str]) -> dict[str, str]:
    """One colour per run or group name, in the order given (the palette repeats after 8).

    A page builds this map once and hands it to every figure it draws, so a run keeps its
    colour in bars, curves and projections alike, whatever subset a figure shows."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(dict.fromkeys(names))}


def _colour_of(colours: Mapping[str, str] | None, name: str, index: int) -> str:
    if colours and name in colours:
        return colours[name]
    return PALETTE[index % len(PALETTE)]


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


def _axis(style: Style, grid: bool, **extra: Any) -> dict[str, Any]:
    axis = {
        "showline": True,
        "linecolor": "#888",
        "linewidth": 2 if style.presentation else 1,
        "showgrid": grid,
        "gridcolor": "#e6e6e6",
        "zeroline": False,
        "ticks": "outside",
        "tickcolor": "#888",
        "automargin": True,
    }
    return {**axis, **extra}


def _top_margin(style: Style, panel_titles: bool = False) -> int:
    """Room above the plot for the title (and the panels' own titles), in pixels."""
    return int(style.title + 24 + (1.8 * style.font if panel_titles else 0))


def _legend_rows(names: Sequence[str], style: Style, width_px: int = 1000) -> int:
    """Rough number of lines a horizontal legend of `names` wraps to (for the bottom margin)."""
    chars = sum(len(n) + 5 for n in names)
    return max(1, math.ceil(chars * 0.6 * style.font / width_px))


def _figure(
    data: list[dict[str, Any]], style: Style, title: str, panel_titles: bool = False, **layout: Any
) -> go.Figure:
    """One `go.Figure` from trace and layout dicts, validated once.

    Built in one go on purpose: plotly's incremental update_* calls cost ~100 ms per figure,
    too much for the live view that redraws every two seconds. template="none" with explicit
    styling for the same reason (a named template is deep-copied into every figure).
    """
    names = list(dict.fromkeys(str(d.get("name", "")) for d in data if d.get("showlegend", True)))
    line = int(1.8 * style.font)
    rows = _legend_rows(names, style)
    base: dict[str, Any] = {
        "template": "none",
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        # Title pinned to the top edge, legend just above the plot: they never overlap.
        "title": {
            "text": title,
            "font": {"size": style.title},
            "x": 0.0,
            "xref": "paper",
            "xanchor": "left",
            "y": 1.0,
            "yref": "container",
            "yanchor": "top",
            "pad": {"t": 10},
        },
        "font": {"family": FONT_FAMILY, "size": style.font, "color": "#222"},
        # Legend at the bottom edge: long group names wrap there without hiding the title.
        "legend": {
            "orientation": "h",
            "yref": "container",
            "yanchor": "bottom",
            "y": 0.0,
            "x": 0.0,
            "title": {"text": ""},
        },
        "margin": {"l": 60, "r": 20, "t": _top_margin(style, panel_titles), "b": 4 * style.font + 24 + line * rows},
        "height": style.height + line * rows,
        "colorway": list(PALETTE),
        "hoverlabel": {"font": {"family": FONT_FAMILY}},
    }
    return go.Figure(data=data, layout={**base, **layout})


def _finite(x: Any) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def _error_bars(values: list[float], visible: bool, style: Style) -> dict[str, Any]:
    return {
        "type": "data",
        "array": values,
        "visible": visible,
        "thickness": style.line * 0.75,
        "width": style.marker,
        "color": "#333",
    }


def metric_bars(
    summary: pd.DataFrame,
    metrics: Sequence[str],
    style: Style,
    title: str | None = None,
    colours: Mapping[str, str] | None = None,
) -> go.Figure:
    """Grouped bars: x = metrics, one bar per group (summary row), error bars = std over seeds.

    `summary` has columns `group`, `n`, `<metric>`, `<metric> std` (compare_table.summary_table);
    `colours` maps group names to colours (`run_colours`; default: the palette in row order).
    """
    labels = [metric_label(m, style.lang) for m in metrics]
    data = []
    for i, (_, row) in enumerate(summary.iterrows()):
        several = int(row["n"]) > 1
        stds = [(_finite(row[f"{m} std"]) or 0.0) if several else 0.0 for m in metrics]
        data.append(
            {
                "type": "bar",
                "name": str(row["group"]),
                "x": labels,
                "y": [_finite(row[m]) for m in metrics],
                "marker": {"color": _colour_of(colours, str(row["group"]), i)},
                "error_y": _error_bars(stds, several, style),
                "hovertemplate": "%{x}: %{y:.4f}<extra>%{fullData.name}</extra>",
            }
        )
    return _figure(
        data,
        style,
        title or t("fig.metrics_title", style.lang),
        barmode="group",
        bargap=0.25,
        xaxis=_axis(style, False),
        yaxis=_axis(style, True, title={"text": t("fig.value", style.lang)}, rangemode="tozero"),
    )


def segment_bars(
    segments: pd.DataFrame, metric: str, kind: str, style: Style, colours: Mapping[str, str] | None = None
) -> go.Figure:
    """Bars per segment (x) and group (colour) for item popularity (`kind="item"`) or user
    activity (`kind="user"`) segments of the test metric `metric`; `segments` as
    compare_table.segment_table returns, `colours` as in `metric_bars`."""
    frame = segments[segments["kind"] == kind]
    data = []
    for i, group in enumerate(dict.fromkeys(frame["group"])):
        part = frame[frame["group"] == group]
        several = bool((part["n_runs"] > 1).any())
        stds = [float(s) if n > 1 else 0.0 for s, n in zip(part["std"], part["n_runs"])]
        data.append(
            {
                "type": "bar",
                "name": str(group),
                "x": [segment_label(s, style.lang) for s in part["segment"]],
                "y": [float(v) for v in part["mean"]],
                "marker": {"color": _colour_of(colours, str(group), i)},
                "error_y": _error_bars(stds, several, style),
                "customdata": [float(n) for n in part["n_users"]],
                "hovertemplate": "%{x}: %{y:.4f} (%{customdata:.0f} users)<extra></extra>",
            }
        )
    key = "fig.segments_item" if kind == "item" else "fig.segments_user"
    shown = part_metric_label(metric, "test", style.lang)
    return _figure(
        data,
        style,
        t(key, style.lang, metric=shown),
        barmode="group",
        bargap=0.25,
        xaxis=_axis(style, False, title={"text": t(key + "_axis", style.lang)}),
        yaxis=_axis(style, True, title={"text": shown}, rangemode="tozero"),
    )


def _run_traces(
    name: str,
    history: Sequence[dict[str, Any]],
    color: str,
    dash: str,
    single: bool,
    mode: str,
    style: Style,
    metric: str,
) -> list[dict[str, Any]]:
    """One run's traces of `training_curves`: its loss parts (left panel) and validation `metric` (right)."""
    data: list[dict[str, Any]] = []
    epochs = [h.get("epoch") for h in history]
    parts = sorted({k for h in history for k in (h.get("loss") or {})}, key=lambda k: (k == "total", k))
    if not single or len(parts) <= 2:  # one part besides the total equals the total: draw it once
        parts = [p for p in parts if p == "total"] or parts
    for j, part in enumerate(parts):
        data.append(
            {
                "type": "scatter",
                "mode": mode,
                "x": epochs,
                "y": [(h.get("loss") or {}).get(part) for h in history],
                "name": t(f"loss.{part}", style.lang, default=part) if single else name,
                "legendgroup": name,
                "line": {
                    "color": PALETTE[j % len(PALETTE)] if single else color,
                    "width": style.line,
                    "dash": "solid" if single else dash,
                },
                "marker": {"size": style.marker},
                "xaxis": "x",
                "yaxis": "y",
            }
        )
    valid = [(h.get("epoch"), (h.get("valid") or {}).get(metric)) for h in history if h.get("valid")]
    data.append(
        {
            "type": "scatter",
            "mode": mode,
            "x": [e for e, _ in valid],
            "y": [v for _, v in valid],
            "name": metric_label(metric, style.lang) if single else name,
            "legendgroup": name,
            "showlegend": single,
            "line": {
                "color": PALETTE[3] if single else color,
                "width": style.line,
                "dash": "solid" if single else dash,
            },
            "marker": {"size": style.marker},
            "xaxis": "x2",
            "yaxis": "y2",
        }
    )
    return data


def _panel_titles(style: Style, metric: str) -> list[dict[str, Any]]:
    """The two panels' titles of `training_curves`, as annotations."""
    return [
        {
            "text": text,
            "x": x,
            "y": 1.0,
            "xref": "paper",
            "yref": "paper",
            "xanchor": "center",
            "yanchor": "bottom",
            "showarrow": False,
            "font": {"size": style.font + 1},
            "yshift": 6,
        }
        for x, text in (
            (0.22, t("fig.loss", style.lang)),
            (0.78, t("fig.valid_metric", style.lang, metric=metric_label(metric, style.lang))),
        )
    ]


def training_curves(
    histories: Mapping[str, Sequence[dict[str, Any]]],
    style: Style,
    metric: str = "ndcg@10",
    colours: Mapping[str, str] | None = None,
) -> go.Figure:
    """Two panels over epochs: training loss (left) and validation `metric` (right).

    One run: every loss part (bpr, contrastive, total) in its own colour. Several runs: each
    run's total loss and metric in the run's colour (`colours`, keyed by history name, e.g.
    every seed of a group in the group's colour; runs sharing a colour get their own dash),
    one legend entry per run. The legend sits below the panels (names of seed groups are long).
    """
    single = len(histories) == 1
    longest = max((len(h) for h in histories.values()), default=0)
    mode = "lines+markers" if longest <= 30 else "lines"  # markers only while they stay apart
    data: list[dict[str, Any]] = []
    used: dict[str, int] = {}
    for i, (name, history) in enumerate(histories.items()):
        color = _colour_of(colours, name, i)
        dash = DASHES[used.get(color, 0) % len(DASHES)]
        used[color] = used.get(color, 0) + 1
        data += _run_traces(name, history, color, dash, single, mode, style, metric)
    epoch_axis: dict[str, Any] = {"title": {"text": t("fig.epoch", style.lang)}, "dtick": 1 if longest <= 12 else None}
    shown = [float(h["epoch"]) for hs in histories.values() for h in hs if isinstance(h.get("epoch"), (int, float))]
    if shown and longest <= 12:
        # Whole epochs half a step either side: plotly's own range around one point runs from
        # -0.5 to 1 and shows epochs that do not exist.
        epoch_axis["range"] = [min(shown) - 0.5, max(shown) + 0.5]
    titles = _panel_titles(style, metric)  # two panels side by side by axis domains
    layout: dict[str, Any] = {
        "xaxis": _axis(style, False, domain=[0.0, 0.44], **epoch_axis),
        "xaxis2": _axis(style, False, domain=[0.56, 1.0], anchor="y2", **epoch_axis),
        "yaxis": _axis(style, True),
        "yaxis2": _axis(style, True, anchor="x2"),
        "annotations": titles,
    }
    return _figure(data, style, t("fig.curves_title", style.lang), panel_titles=True, **layout)
