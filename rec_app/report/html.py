"""HTML pieces of the defence report: escaping, tables, figures (plotly.js inline once, in the
page head), the few markdown marks of our sentences, the page's style and print script."""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

__all__ = ["_CSS", "_PRINT_JS", "_esc", "_figure_html", "_markdown", "_table"]


def _esc(value: object) -> str:
    return html.escape("–" if value is None else str(value))


def _table(frame: pd.DataFrame, bold_rows: Sequence[bool] | None = None) -> str:
    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    rows = []
    for i, row in enumerate(frame.itertuples(index=False)):
        cls = ' class="differs"' if bold_rows is not None and bold_rows[i] else ""
        rows.append(f"<tr{cls}>" + "".join(f"<td>{_esc(v)}</td>" for v in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _figure_html(fig: go.Figure, name: str) -> str:
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"fig-{name}",
        default_width="100%",
        config={"displaylogo": False, "responsive": True},
    )


_CSS = """
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", "PingFang SC", Arial, sans-serif;
       color: #222; margin: 0 auto; max-width: 1180px; padding: 24px 32px; line-height: 1.45; }
h1 { font-size: 28px; margin-bottom: 4px; } h2 { font-size: 21px; border-bottom: 2px solid #0072B2;
  padding-bottom: 4px; margin-top: 36px; } h3 { font-size: 16px; margin: 18px 0 6px; }
p.meta, p.note { color: #555; font-size: 13px; }
table { border-collapse: collapse; font-size: 12px; margin: 8px 0 14px; width: 100%; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #eef3f8; } tr.differs td { font-weight: bold; background: #fff7e0; }
nav ol { columns: 2; font-size: 14px; } .figure { margin: 10px 0 22px; break-inside: avoid; }
.figure .caption { font-size: 13px; color: #444; margin: 2px 0 4px; }
@page { size: A4; margin: 12mm; }
@media print { body { max-width: none; padding: 0; } nav, .print-hint { display: none; }
  h2 { break-after: avoid; } section { break-before: auto; } table { font-size: 10px; } }
"""


_PRINT_JS = """
window.addEventListener('beforeprint', function () {
  document.querySelectorAll('.js-plotly-plot').forEach(function (p) { Plotly.Plots.resize(p); });
});
"""


def _markdown(text: str) -> str:
    """The few markdown marks our sentences use (**bold**), escaped otherwise."""
    parts = html.escape(text).split("**")
    return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))
