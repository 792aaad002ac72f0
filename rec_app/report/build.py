"""The defence report: one self-contained HTML file of a comparison, and a ZIP of its parts.

`build_report(inputs, lang)` turns what the Compare page compares (`ReportInputs`: groups of
runs, the seed-aware comparisons, results, histories, and the attention heatmaps and
projections last shown on the analysis pages as `ReportFigure`s) into a `Report`: the runs and
their configs, the test metrics with the verdicts in words, the segment charts, the training
curves, the analysis figures, the protocol paragraph, the versions and the machine, all in
`lang`. The HTML carries plotly.js inline (no CDN, no web font: it opens without a network)
and prints to PDF from a browser. `report_zip(report)` adds the tables as CSV, each run's
config and every figure as SVG. Pure functions; no Streamlit.
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import pandas as pd
import plotly.graph_objects as go

from rec_app.compare.equal_budget import warm_start_display, warm_start_table
from rec_app.compare.groups import RunGroup
from rec_app.compare.table import (
    TABLE_METRICS,
    GroupComparison,
    differences_table,
    random_reference,
    segment_table,
    summary_table,
)
from rec_app.compare.text import differences_display, summary_display, verdict_sentences
from rec_app.figures import Style, export_images, metric_bars, run_colours, segment_bars, training_curves
from rec_app.i18n import t
from rec_app.report.html import _CSS, _PRINT_JS, _esc, _figure_html, _markdown, _table
from rec_app.report.tables import _config_table, _environment_table, _runs_table

__all__ = ["ReportFigure", "ReportInputs", "Report", "SECTIONS", "build_report", "report_zip"]

# Section ids in reading order (the HTML's anchors; tests look for each).
SECTIONS: tuple[str, ...] = (
    "runs",
    "comparison",
    "segments",
    "curves",
    "attention",
    "projections",
    "protocol",
    "environment",
)


@dataclass(frozen=True, eq=False)
class ReportFigure:
    """A figure of an analysis page for the report, drawn again in the report's language."""

    kind: Literal["attention", "projection"]
    name: str  # file name stem in the ZIP, e.g. "attention-tokens"
    build: Callable[[Style], go.Figure]  # the figure in a style (language, presentation)
    caption: Callable[[str], str]  # language -> one line saying what the figure shows


@dataclass(frozen=True, eq=False)
class ReportInputs:
    """What the Compare page compares, as the report needs it."""

    groups: Sequence[RunGroup]  # the selected groups (names in the report's language)
    reference: RunGroup | None
    comparisons: Sequence[GroupComparison]  # each other group against the reference
    results: Mapping[str, dict[str, Any] | None]  # run id -> results.json
    histories: Mapping[str, Sequence[dict[str, Any]]] = field(default_factory=dict)  # curve name -> history
    curve_groups: Mapping[str, str] = field(default_factory=dict)  # curve name -> its group's name
    metrics: Sequence[str] = TABLE_METRICS  # the metrics of the tables (the page's cut-off choice)
    segment_metric: str = "ndcg@10"
    extras: Sequence[ReportFigure] = ()
    presentation: bool = False
    # Warm-started groups against their equal-budget control (rec_app.compare.equal_budget), and the
    # names of warm-started groups that have none.
    control_comparisons: Sequence[GroupComparison] = ()
    missing_controls: Sequence[str] = ()


@dataclass(frozen=True, eq=False)
class Report:
    """The report's HTML and the parts it was made of."""

    html: str
    lang: str
    figures: dict[str, go.Figure]  # file stem -> figure, in reading order
    tables: dict[str, pd.DataFrame]  # file stem -> table, as shown
    configs: dict[str, dict[str, Any]]  # run id -> config.json


# Plotly sizes a figure to its box when drawn; a printed page is narrower than the window.


_TITLES = {s: f"report.s_{s}" for s in SECTIONS}


def build_report(inputs: ReportInputs, lang: str, now: datetime | None = None) -> Report:
    """The report of `inputs` in `lang` (see the module doc); `now` stamps it (default: now)."""
    style = Style(lang, inputs.presentation)
    groups = list(inputs.groups)
    ref = inputs.reference
    random = random_reference(ref, inputs.results.get) if ref is not None else {}
    summary = summary_table(groups, TABLE_METRICS)
    diffs = differences_table(list(inputs.comparisons), random)
    tables, differs = _tables(inputs, lang, summary, diffs, random)
    figures, extras = _figures(inputs, style, summary)

    def figure_block(name: str, caption: str = "") -> str:
        cap = f'<p class="caption">{_esc(caption)}</p>' if caption else ""
        return f'<div class="figure">{cap}{_figure_html(figures[name], name)}</div>'

    def extra_blocks(kind: str, none_key: str) -> str:
        if not extras[kind]:
            return _note(t(none_key, lang))
        return "".join(
            figure_block(n, c) if f is not None else _note(f"{c}: {t('report.no_figure', lang)}")
            for n, f, c in extras[kind]
        )

    no_figure = _note(t("report.no_figure", lang))
    splits = sorted({str(r.split) for g in groups for r in g.runs})
    body = {
        "runs": _note(t("report.runs_note", lang))
        + _table(tables["runs"])
        + _table(tables["configs"], differs)
        + (_h3(t("compare.warm_sources", lang)) + _table(tables["warm_starts"]) if "warm_starts" in tables else ""),
        "comparison": _comparison_html(inputs, lang, tables, bool(random), not diffs.empty) + figure_block("metrics"),
        "segments": "".join(figure_block(n) for n in figures if n.startswith("segments-")) or no_figure,
        "curves": _note(t("report.curves_note", lang)) + figure_block("training-curves")
        if "training-curves" in figures
        else no_figure,
        "attention": extra_blocks("attention", "report.none_attention"),
        "projections": extra_blocks("projection", "report.none_projection"),
        "protocol": "<p>"
        + _esc(t("report.protocol", lang, splits=", ".join(t(f"split.{s}", lang, default=s) for s in splits) or "–"))
        + "</p>",
        "environment": _note(t("report.environment_note", lang)) + _table(tables["environment"]),
    }
    configs = {r.run_id: r.config for g in groups for r in g.runs}
    return Report(_page(inputs, lang, body, now), lang, figures, tables, configs)


def _note(text: str) -> str:
    return f'<p class="note">{_esc(text)}</p>'


def _h3(text: str) -> str:
    return f"<h3>{_esc(text)}</h3>"


def _tables(
    inputs: ReportInputs, lang: str, summary: pd.DataFrame, diffs: pd.DataFrame, random: dict[str, float]
) -> tuple[dict[str, pd.DataFrame], list[bool]]:
    """The report's tables as shown, by file stem, and which config rows differ between groups."""
    groups, ref, read = list(inputs.groups), inputs.reference, inputs.results.get
    tables: dict[str, pd.DataFrame] = {
        "runs": _runs_table(groups, lang),
        "summary": summary_display(summary, inputs.metrics, lang, random, len(ref.runs) if ref else 0),
        "differences": differences_display(diffs, inputs.metrics, lang),
    }
    tables["configs"], differs = _config_table(groups, lang, read)
    warm = warm_start_table(groups, read)
    if not warm.empty:
        tables["warm_starts"] = warm_start_display(warm, lang)
    control_diffs = differences_table(list(inputs.control_comparisons))
    if not control_diffs.empty:
        tables["differences_control"] = differences_display(control_diffs, inputs.metrics, lang)
    tables["environment"] = _environment_table(groups, inputs.results, lang)
    return tables, differs


Extras = dict[str, list[tuple[str, go.Figure | None, str]]]


def _figures(inputs: ReportInputs, style: Style, summary: pd.DataFrame) -> tuple[dict[str, go.Figure], Extras]:
    """The report's figures by file stem, and the analysis figures by kind as (name, figure or
    None when it could not be drawn, caption)."""
    groups = list(inputs.groups)
    colours = run_colours([g.name for g in groups])
    figures: dict[str, go.Figure] = {"metrics": metric_bars(summary, inputs.metrics, style, colours=colours)}
    segments = segment_table(groups, inputs.results.get, inputs.segment_metric)
    for kind in ("item", "user"):
        if (segments["kind"] == kind).any():
            figures[f"segments-{kind}"] = segment_bars(segments, inputs.segment_metric, kind, style, colours=colours)
    if any(inputs.histories.values()):
        curve_colours = {name: colours.get(inputs.curve_groups.get(name, name), "") for name in inputs.histories}
        figures["training-curves"] = training_curves(
            inputs.histories, style, colours={k: v for k, v in curve_colours.items() if v}
        )
    extras: Extras = {"attention": [], "projection": []}
    for extra in inputs.extras:
        try:
            fig: go.Figure | None = extra.build(style)
        except Exception:  # noqa: BLE001 - one analysis figure must not cost the whole report
            fig = None
        name = extra.name if extra.name not in figures else f"{extra.name}-{len(figures)}"
        if fig is not None:
            figures[name] = fig
        extras[extra.kind].append((name, fig, extra.caption(style.lang)))
    return figures, extras


def _comparison_html(
    inputs: ReportInputs, lang: str, tables: Mapping[str, pd.DataFrame], random: bool, any_difference: bool
) -> str:
    """The comparison section before its figure: the rule, the summary, the verdicts, the
    differences to the reference and the equal-budget controls."""
    out = [
        f"<p>{_markdown(t('compare.rule', lang))}</p>",
        _table(tables["summary"]),
        f'<p class="note">{_esc(t("compare.table_note", lang))}'
        + (f" {_esc(t('compare.random_note', lang))}" if random else "")
        + "</p>",
    ]
    sentences = verdict_sentences(list(inputs.comparisons), inputs.metrics, lang)
    if sentences:
        out.append(_h3(t("report.verdicts", lang)) + "<ul>" + "".join(f"<li>{_markdown(s)}</li>" for s in sentences))
        out.append("</ul>")
    for gc in inputs.comparisons:
        if gc.error:
            out.append(_note(t("compare.cannot_pair", lang, group=gc.group, error=gc.error)))
    if inputs.reference is not None and any_difference:
        out.append(_h3(t("report.differences", lang, reference=inputs.reference.name)) + _table(tables["differences"]))
    else:
        out.append(_note(t("report.no_differences", lang)))
    controls = list(inputs.control_comparisons)
    if controls or inputs.missing_controls:
        out.append(_h3(t("compare.control_heading", lang)) + f"<p>{_markdown(t('compare.control_rule', lang))}</p>")
        control_sentences = verdict_sentences(controls, inputs.metrics, lang)
        if control_sentences:
            out.append("<ul>" + "".join(f"<li>{_markdown(s)}</li>" for s in control_sentences) + "</ul>")
        if "differences_control" in tables:
            out.append(_table(tables["differences_control"]))
        for name in inputs.missing_controls:
            out.append(f'<p class="note">{_markdown(t("compare.no_control", lang, group=name))}</p>')
    return "".join(out)


def _page(inputs: ReportInputs, lang: str, body: Mapping[str, str], now: datetime | None) -> str:
    """The whole HTML page: head (plotly.js inline), title, stamp, contents and the sections."""
    import plotly.offline

    groups, ref = list(inputs.groups), inputs.reference
    when = (now or datetime.now().astimezone()).strftime("%Y-%m-%d %H:%M")
    try:
        version = importlib.metadata.version("rec_core")
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    models = ", ".join(g.name for g in groups)
    meta = t(
        "report.generated",
        lang,
        when=when,
        version=version,
        n=sum(len(g.runs) for g in groups),
        groups=len(groups),
        reference=ref.name if ref is not None else t("report.no_reference", lang),
    )
    nav = "".join(f'<li><a href="#{s}">{_esc(t(_TITLES[s], lang))}</a></li>' for s in SECTIONS)
    sections = "".join(f'<section id="{s}"><h2>{_esc(t(_TITLES[s], lang))}</h2>{body[s]}</section>' for s in SECTIONS)
    return (
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(t('report.heading', lang))}: {_esc(models)}</title><style>{_CSS}</style>"
        f'<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script></head><body>'
        f'<h1>{_esc(t("report.title", lang, models=models))}</h1><p class="meta">{_esc(meta)}</p>'
        f'<p class="note print-hint">{_esc(t("report.print_hint", lang))}</p>'
        f"<nav><h3>{_esc(t('report.contents', lang))}</h3><ol>{nav}</ol></nav>{sections}"
        f"<script>{_PRINT_JS}</script></body></html>"
    )


def report_zip(report: Report, images: bool = True) -> bytes:
    """A ZIP of the report's parts: report.html, tables/*.csv (UTF-8 with BOM), configs/<run>.json,
    figures/*.json and, with `images`, figures/*.svg (rendered by kaleido; when that fails a
    note says why and the JSON files stand in)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("report.html", report.html)
        zf.writestr("README.txt", t("report.parts_readme", report.lang) + "\n")
        for name, frame in report.tables.items():
            zf.writestr(f"tables/{name}.csv", frame.to_csv(index=False).encode("utf-8-sig"))
        for run_id, config in report.configs.items():
            zf.writestr(f"configs/{run_id}.json", json.dumps(config, indent=2, ensure_ascii=False, default=str))
        for name, fig in report.figures.items():
            zf.writestr(f"figures/{name}.json", fig.to_json())
        if images and report.figures:
            try:
                rendered = export_images(report.figures, ("svg",))
            except Exception as exc:  # noqa: BLE001 - the rest of the ZIP is still worth having
                zf.writestr("figures/README.txt", t("report.svg_failed", report.lang, error=exc) + "\n")
            else:
                for name, data in rendered.items():
                    zf.writestr(f"figures/{name}", data)
    return buffer.getvalue()
