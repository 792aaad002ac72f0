"""The Embeddings page's "aligned" layout: one joint 2-D map of a run's ID vectors and text
vectors of one side, one marker symbol per view, coloured warm / cold."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from rec_app.figures.analysis import _frame
from rec_app.figures.style import PALETTE, Style
from rec_app.i18n import t

__all__ = ["aligned_figure"]

_SYMBOLS = {"id": "circle", "text": "diamond-open"}  # ID vectors filled, text vectors open
_WARMTH_COLOURS = {"warm": PALETTE[0], "cold": PALETTE[3]}


def aligned_figure(
    coords: np.ndarray, labels: Sequence[str], warmth: Sequence[str], style: Style, title: str
) -> go.Figure:
    """Scatter of `coords` ((2n, 2): rows 0..n-1 the n entities' ID vectors, n..2n-1 their text
    vectors, as `rec_core.analysis.alignment` stacks them), one trace per (view, warmth): the view
    as the marker symbol, warm / cold as the colour; hover names the entity, view and warmth."""
    n = len(labels)
    if coords.shape != (2 * n, 2) or len(warmth) != n:
        raise ValueError(f"{coords.shape} coordinates for {n} entities: expected ({2 * n}, 2)")
    lang = style.lang
    warm = np.asarray([str(w) for w in warmth], dtype=object)
    names = np.asarray([str(x) for x in labels], dtype=object)
    fig = go.Figure()
    size = 8 if style.presentation else 5
    for v, view in enumerate(("id", "text")):
        xy = coords[v * n : (v + 1) * n]
        for group in ("warm", "cold"):
            members = warm == group
            if not members.any():
                continue
            name = f"{t(f'an.view.{view}', lang)} · {t(f'an.warmth.{group}', lang)}"
            fig.add_trace(
                go.Scatter(
                    x=xy[members, 0],
                    y=xy[members, 1],
                    mode="markers",
                    name=name,
                    marker={
                        "symbol": _SYMBOLS[view],
                        "color": _WARMTH_COLOURS[group],
                        "size": size,
                        "opacity": 0.8,
                        "line": {"width": 1 if view == "text" else 0, "color": _WARMTH_COLOURS[group]},
                    },
                    customdata=names[members],
                    hovertemplate="%{customdata}<br>" + name + "<extra></extra>",
                )
            )
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, title_text="UMAP 1")
    fig.update_yaxes(
        showticklabels=False, showgrid=False, zeroline=False, title_text="UMAP 2", scaleanchor="x", scaleratio=1
    )
    fig.update_layout(legend={"itemsizing": "constant"})
    return _frame(fig, style, title, 640 if style.presentation else 520)
