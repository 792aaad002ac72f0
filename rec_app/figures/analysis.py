"""Plotly figures of the analysis pages, in the app's style (`rec_app.figures.Style`).

Attention heatmaps put the tokens in columns (by position, so a repeated token keeps its
own column; tick labels coloured by field) and the heads plus their mean in rows, hover
giving token, field, head and weight. Several entities share one colour axis, so a colour
means the same weight in every panel. Projections draw one panel per run or view with the
same category colours and the same continuous scale in every panel.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rec_core.analysis.attention_view import TokenView, field_matrix, ordered_fields
from rec_core.analysis.projection import CONTINUOUS, log_scale, nice_log_ticks
from rec_app.figures.style import FONT_FAMILY, PALETTE, Style
from rec_app.i18n import t

__all__ = [
    "FIELD_COLOURS",
    "field_name",
    "attention_heatmaps",
    "field_heatmap",
    "field_bars",
    "projection_figure",
    "category_colours",
    "HEAT_SCALE",
    "difference_histogram",
]

HEAT_SCALE = "Blues"  # sequential, white at 0: reads on paper and on a projector
FIELD_COLOURS: dict[str, str] = {
    "title": "#0072B2",
    "year": "#E69F00",
    "genres": "#009E73",
    "age": "#D55E00",
    "gender": "#CC79A7",
    "occupation": "#56B4E9",
    "template": "#8a8a8a",
    "special": "#b0b0b0",
}
# Categories: Okabe-Ito without black, then Paul Tol's muted colours (distinct on projectors and
# for colour-blind viewers); further categories share the `other` grey.
_CATEGORY_COLOURS = tuple(PALETTE[:7]) + (
    "#332288",
    "#882255",
    "#999933",
    "#44AA99",
    "#AA4499",
    "#DDCC77",
    "#117733",
    "#661100",
    "#6699CC",
    "#000000",
)
_MAX_CATEGORIES = len(_CATEGORY_COLOURS)  # more legend entries are unreadable: the rest become "other"
_OTHER = "#c8c8c8"
# Entities in field bars: colours the field labels do not use, so a bar never reads as a field.
_ENTITY_COLOURS = ("#332288", "#882255", "#999933", "#44AA99", "#AA4499", "#661100")


def field_name(field: str, lang: str) -> str:
    """A field's display name (title, year, ...), translated when known."""
    return t(f"an.field.{field}", lang, default=field)


def _frame(fig: go.Figure, style: Style, title: str, height: int) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        title={"text": title, "font": {"size": style.title}, "x": 0.0, "xanchor": "left"},
        font={"family": FONT_FAMILY, "size": style.font, "color": "#222"},
        hoverlabel={"font": {"family": FONT_FAMILY, "size": style.font}},
        margin={"l": 20, "r": 20, "t": 110 if style.presentation else 90, "b": 30},
    )
    fig.update_annotations(font_size=style.font + 1)  # subplot titles
    return fig


def _tick(token: str, field: str) -> str:
    # Plotly renders this small HTML subset in tick labels; escape the token's own < > &.
    colour = FIELD_COLOURS.get(field, "#444")
    return f'<span style="color:{colour}">{html.escape(token)}</span>'


def _heat_rows(view: TokenView, lang: str) -> list[str]:
    return [t("an.head_n", lang, n=h + 1) for h in range(view.n_heads)] + [t("an.mean", lang)]


def _add_heatmap(fig: go.Figure, v: TokenView, r: int, style: Style) -> None:
    """Draw one entity's heads x tokens heatmap (and its mean row) into row `r` of `fig`."""
    lang = style.lang
    z = np.vstack([v.weights, v.mean[None, :]])
    fields = [field_name(f, lang) for f in v.fields]
    custom = np.empty(z.shape + (2,), dtype=object)
    custom[..., 0] = np.array(v.tokens, dtype=object)[None, :]
    custom[..., 1] = np.array(fields, dtype=object)[None, :]
    fig.add_trace(
        go.Heatmap(
            z=z,
            x=list(range(len(v.tokens))),
            y=_heat_rows(v, lang),
            customdata=custom,
            coloraxis="coloraxis",
            xgap=1,
            ygap=1,
            hovertemplate=("<b>%{customdata[0]}</b> · %{customdata[1]}<br>%{y}: %{z:.3f}<extra></extra>"),
        ),
        row=r,
        col=1,
    )
    long = len(v.tokens) > 14 or max((len(s) for s in v.tokens), default=0) > 8
    fig.update_xaxes(
        tickmode="array",
        tickvals=list(range(len(v.tokens))),
        ticktext=[_tick(tok, f) for tok, f in zip(v.tokens, v.fields)],
        tickangle=-55 if long else 0,
        showgrid=False,
        row=r,
        col=1,
    )
    fig.update_yaxes(autorange="reversed", showgrid=False, row=r, col=1)
    # A line between the heads and their mean: the mean row is a summary, not a head.
    fig.add_hline(y=v.n_heads - 0.5, line={"color": "#333", "width": 1 + style.presentation}, row=r, col=1)


def _add_field_legend(fig: go.Figure, views: Sequence[TokenView], lang: str) -> None:
    """A legend of the field colours used by the token labels (markers only; no data)."""
    for field in ordered_fields([f for v in views for f in v.fields]):
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=field_name(field, lang),
                hoverinfo="skip",
                marker={"symbol": "square", "size": 12, "color": FIELD_COLOURS.get(field, "#444")},
            ),
            row=1,
            col=1,
        )


def attention_heatmaps(
    views: Sequence[TokenView],
    style: Style,
    title: str,
    subtitles: Sequence[str] | None = None,
    zmax: float | None = None,
) -> go.Figure:
    """One heatmap per entity, stacked, on one colour scale (0 to `zmax`, default the largest
    weight shown): rows heads and mean, columns tokens; hover names token, field and weight."""
    if not views:
        raise ValueError("attention_heatmaps needs at least one view")
    lang = style.lang
    heads = max(v.n_heads for v in views)
    rows_px = (heads + 1) * (34 if style.presentation else 26)  # one heatmap's cells
    gap_px = 150 if style.presentation else 120  # the token labels above plus the next title
    plot_px = len(views) * rows_px + (len(views) - 1) * gap_px
    bottom_px = gap_px + 40  # the last token labels and the field-colour legend
    total = plot_px + bottom_px + (130 if style.presentation else 110)
    fig = make_subplots(
        rows=len(views),
        cols=1,
        vertical_spacing=gap_px / plot_px if len(views) > 1 else 0.0,
        subplot_titles=list(subtitles) if subtitles else [v.label for v in views],
    )
    top = zmax if zmax is not None else max(float(np.vstack([v.weights, v.mean]).max()) for v in views)
    for r, v in enumerate(views, start=1):
        _add_heatmap(fig, v, r, style)
    _add_field_legend(fig, views, lang)
    fig.update_layout(
        showlegend=True,
        legend={
            "orientation": "h",
            "x": 0.0,
            "y": 0.0,
            "yanchor": "bottom",
            "yref": "container",
            "title": {"text": t("an.fields_legend", lang)},
        },
    )
    fig.update_layout(
        coloraxis={
            "colorscale": HEAT_SCALE,
            "cmin": 0.0,
            "cmax": top,
            "colorbar": {
                "title": {"text": t("an.attention_weight", lang), "side": "right"},
                "thickness": 14 + 6 * style.presentation,
                "len": min(1.0, 400 / plot_px),
                "y": 1.0,
                "yanchor": "top",
            },
        }
    )
    _frame(fig, style, title, total)
    fig.update_layout(margin={"b": bottom_px})
    return fig


def field_heatmap(view: TokenView, style: Style, title: str) -> go.Figure:
    """Heads (and mean) x fields: the share of each head's attention on each field, annotated."""
    fields, m = field_matrix(view)
    names = [field_name(f, style.lang) for f in fields]
    fig = go.Figure(
        go.Heatmap(
            z=m,
            x=names,
            y=_heat_rows(view, style.lang),
            colorscale=HEAT_SCALE,
            zmin=0.0,
            zmax=max(1e-9, float(m.max())),
            text=np.round(m, 2),
            texttemplate="%{text:.2f}",
            textfont={"size": style.font},
            xgap=2,
            ygap=2,
            colorbar={"title": {"text": t("an.field_share", style.lang), "side": "right"}},
            hovertemplate="%{x} · %{y}: %{z:.3f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", showgrid=False)
    fig.update_xaxes(showgrid=False)
    row_px = 44 if style.presentation else 34
    return _frame(fig, style, title, (view.n_heads + 1) * row_px + 220)


def field_bars(views: Sequence[TokenView], style: Style, title: str) -> go.Figure:
    """Per field, one bar per entity: its attention share (mean over heads) on that field."""
    fields = ordered_fields([f for v in views for f in v.fields])
    fig = go.Figure()
    for n, v in enumerate(views):
        own, m = field_matrix(v)
        share = dict(zip(own, m[-1]))
        fig.add_trace(
            go.Bar(
                name=v.label,
                x=[field_name(f, style.lang) for f in fields],
                y=[share.get(f) for f in fields],
                marker_color=_ENTITY_COLOURS[n % len(_ENTITY_COLOURS)],
                hovertemplate="%{x}: %{y:.3f}<extra>" + html.escape(v.label) + "</extra>",
            )
        )
    fig.update_layout(barmode="group", bargap=0.25, legend={"orientation": "h", "y": -0.2, "x": 0.0})
    fig.update_yaxes(title_text=t("an.field_share", style.lang), rangemode="tozero", gridcolor="#e6e6e6")
    return _frame(fig, style, title, style.height + 30 * ((len(views) + 1) // 2))


# -- projections -------------------------------------------------------------------------------------
def category_colours(values: pd.Series) -> dict[str, str]:
    """Category -> colour, most frequent first; categories past the palette share `other` grey.
    The same `values` always give the same map, so every panel of a figure agrees."""
    counts = values.dropna().astype(str).value_counts(sort=False)
    order = sorted(counts.index, key=lambda c: (-counts[c], c))
    return {c: (_CATEGORY_COLOURS[i] if i < _MAX_CATEGORIES else _OTHER) for i, c in enumerate(order)}


def _category(colour: str, value: object, lang: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return t("an.unknown", lang)
    if colour == "warmth":
        return t(f"an.warmth.{value}", lang, default=str(value))
    return str(value)


def _continuous_traces(
    fig: go.Figure,
    panels: Sequence[tuple[str, np.ndarray]],
    attributes: pd.DataFrame,
    colour: str,
    marker: dict[str, Any],
    hover: str,
    lang: str,
) -> None:
    """`projection_figure`'s points coloured by a continuous attribute on one colour axis (log for counts)."""
    labels = attributes["label"].astype(str).to_numpy()
    colour_name = t(f"an.colour.{colour}", lang, default=colour)
    raw = pd.to_numeric(attributes[colour], errors="coerce").to_numpy(dtype="float64")
    logged = colour in ("popularity", "activity")  # counts span orders of magnitude
    shown = log_scale(np.nan_to_num(raw)) if logged else raw
    text = np.array(["–" if np.isnan(x) else f"{x:.0f}" for x in raw], dtype=object)
    for c, (_, xy) in enumerate(panels, start=1):
        fig.add_trace(
            go.Scatter(
                x=xy[:, 0],
                y=xy[:, 1],
                mode="markers",
                showlegend=False,
                hovertemplate=hover,
                customdata=np.stack([labels, text], axis=1),
                marker={**marker, "color": shown, "coloraxis": "coloraxis"},
            ),
            row=1,
            col=c,
        )
    bar: dict[str, object] = {
        "title": {"text": colour_name + (f" ({t('an.log_scale', lang)})" if logged else ""), "side": "right"}
    }
    if logged:
        ticks = nice_log_ticks(float(np.nanmax(raw)) if np.isfinite(raw).any() else 1.0)
        bar.update(tickmode="array", tickvals=log_scale(ticks).tolist(), ticktext=[str(v) for v in ticks])
    finite = shown[np.isfinite(shown)]
    fig.update_layout(
        coloraxis={
            "colorscale": "Viridis",
            "colorbar": bar,
            "cmin": float(finite.min()) if finite.size else 0.0,
            "cmax": float(finite.max()) if finite.size else 1.0,
        }
    )


def _category_traces(
    fig: go.Figure,
    panels: Sequence[tuple[str, np.ndarray]],
    attributes: pd.DataFrame,
    colour: str,
    marker: dict[str, Any],
    hover: str,
    lang: str,
) -> None:
    """`projection_figure`'s points coloured by category, one legend entry per category."""
    labels = attributes["label"].astype(str).to_numpy()
    colour_name = t(f"an.colour.{colour}", lang, default=colour)
    cats = np.array([_category(colour, v, lang) for v in attributes[colour]], dtype=object)
    colours = category_colours(pd.Series(cats))
    for cat, col in colours.items():
        members = cats == cat
        name = cat if col != _OTHER else t("an.other", lang)
        for c, (_, xy) in enumerate(panels, start=1):
            fig.add_trace(
                go.Scatter(
                    x=xy[members, 0],
                    y=xy[members, 1],
                    mode="markers",
                    name=name,
                    legendgroup=name,
                    showlegend=c == 1 and (col != _OTHER or cat == next(k for k, v in colours.items() if v == _OTHER)),
                    marker={**marker, "color": col},
                    hovertemplate=hover,
                    customdata=np.stack([labels[members], cats[members]], axis=1),
                ),
                row=1,
                col=c,
            )
    fig.update_layout(legend={"title": {"text": colour_name}, "itemsizing": "constant"})


def projection_figure(
    panels: Sequence[tuple[str, np.ndarray]],
    attributes: pd.DataFrame,
    colour: str,
    style: Style,
    title: str,
    run_colours: Mapping[str, str] | None = None,
) -> go.Figure:
    """Scatter panels side by side (one per (subtitle, (n, 2) coords)), all coloured by the
    same attribute with the same colours; hover shows each point's label and value. With
    `run_colours` (panel subtitle -> colour, the page's run colours) a panel showing a run has
    its title and frame in that run's colour."""
    lang = style.lang
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[p[0] for p in panels], horizontal_spacing=0.04)
    colour_name = t(f"an.colour.{colour}", lang, default=colour)
    marker = {"size": 8 if style.presentation else 5, "opacity": 0.8, "line": {"width": 0}}
    hover = "%{customdata[0]}<br>" + html.escape(colour_name) + ": %{customdata[1]}<extra></extra>"
    if colour in CONTINUOUS:
        _continuous_traces(fig, panels, attributes, colour, marker, hover, lang)
    else:
        _category_traces(fig, panels, attributes, colour, marker, hover, lang)
    for c, (subtitle, _) in enumerate(panels, start=1):
        own = (run_colours or {}).get(subtitle)
        if own is not None:  # the run's colour, as in the page's other charts
            fig.layout.annotations[c - 1].font.color = own
            fig.update_xaxes(showline=True, mirror=True, linecolor=own, linewidth=3, row=1, col=c)
            fig.update_yaxes(showline=True, mirror=True, linecolor=own, linewidth=3, row=1, col=c)
        fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, title_text="UMAP 1", row=1, col=c)
        fig.update_yaxes(
            showticklabels=False,
            showgrid=False,
            zeroline=False,
            title_text="UMAP 2" if c == 1 else None,
            scaleanchor=f"x{c if c > 1 else ''}",
            scaleratio=1,
            row=1,
            col=c,
        )
    return _frame(fig, style, title, 640 if style.presentation else 520)


def difference_histogram(
    diffs: np.ndarray,
    style: Style,
    title: str,
    axis_title: str,
    names: tuple[str, str],
    colours: Mapping[str, str] | None = None,
) -> go.Figure:
    """Histogram of per-user differences (A - B); users where A wins on the right, B on the left,
    each in its run's colour (`colours`: run name -> colour, default the palette's first two)."""
    diffs = np.asarray(diffs, dtype="float64")
    diffs = diffs[np.isfinite(diffs)]
    fig = go.Figure()
    own = colours or {}
    for label, part, colour in (
        (names[1], diffs[diffs < 0], own.get(names[1], PALETTE[1])),
        (t("an.tie", style.lang), diffs[diffs == 0], "#9a9a9a"),
        (names[0], diffs[diffs > 0], own.get(names[0], PALETTE[0])),
    ):
        fig.add_trace(
            go.Histogram(
                x=part,
                name=f"{label} ({len(part)})",
                marker_color=colour,
                xbins={"size": 0.05},
                hovertemplate="%{x}: %{y}<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="overlay", bargap=0.05, legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}
    )
    fig.update_xaxes(title_text=axis_title, zeroline=True, zerolinecolor="#333")
    fig.update_yaxes(title_text=t("an.n_users", style.lang), gridcolor="#e6e6e6")
    return _frame(fig, style, title, style.height)
