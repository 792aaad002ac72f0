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

import html
import importlib.metadata
import io
import json
import os
import platform
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import pandas as pd
import plotly.graph_objects as go

from rec_app.compare.groups import RunGroup, flatten_config, seedless_config
from rec_app.compare.table import (
    TABLE_METRICS,
    GroupComparison,
    differences_table,
    random_reference,
    segment_table,
    summary_table,
)
from rec_app.compare.text import differences_display, summary_display, verdict_sentences
from rec_app.compare.equal_budget import warm_start_display, warm_start_settings, warm_start_table
from rec_app.figures import Style, export_images, metric_bars, run_colours, segment_bars, training_curves
from rec_app.i18n import part_metric_label, t
from rec_app.runs.model_names import model_display_name

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
_ENV_KEYS = (
    "python",
    "platform",
    "rec_core",
    "code",
    "torch",
    "transformers",
    "peft",
    "numpy",
    "pandas",
    "device",
    "cpu_count",
    "torch_threads",
    "cuda_version",
    "cuda_device",
)
_PACKAGES = ("torch", "transformers", "peft", "numpy", "pandas", "plotly", "streamlit")


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


def _esc(value: object) -> str:
    return html.escape("–" if value is None else str(value))


def _table(frame: pd.DataFrame, bold_rows: Sequence[bool] | None = None) -> str:
    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    rows = []
    for i, row in enumerate(frame.itertuples(index=False)):
        cls = ' class="differs"' if bold_rows is not None and bold_rows[i] else ""
        rows.append(f"<tr{cls}>" + "".join(f"<td>{_esc(v)}</td>" for v in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _runs_table(groups: Sequence[RunGroup], lang: str) -> pd.DataFrame:
    label = part_metric_label("ndcg@10", "test", lang)
    records = [
        {
            t("col.group", lang): g.name,
            t("report.col_what", lang): model_display_name(r.config, lang),
            t("report.col_run", lang): r.run_id,
            t("col.seed", lang): r.seed,
            t("report.col_state", lang): t(f"state.{r.state}", lang, default=r.state),
            t("col.best_epoch", lang): r.best_text or "–",
            t("col.ended", lang): r.completion.get("summary") or "–",
            label: f"{r.metrics['ndcg@10']:.4f}" if "ndcg@10" in r.metrics else "–",
        }
        for g in groups
        for r in g.runs
    ]
    return pd.DataFrame.from_records(records)


def _relevant(flat: dict[str, Any]) -> dict[str, Any]:
    """A flattened config without the data fields its dataset does not read (`synthetic_*` for
    MovieLens, `csv_*` for anything but a CSV upload)."""
    name = str(flat.get("data.name", ""))

    def used(key: str) -> bool:
        field = key.removeprefix("data.")
        if field.startswith("synthetic_"):
            return name == "synthetic"
        if field.startswith("csv_"):
            return name == "csv"
        return True

    return {k: v for k, v in flat.items() if not k.startswith("data.") or used(k)}


def _config_table(
    groups: Sequence[RunGroup], lang: str, read: Callable[[str], dict[str, Any] | None] = lambda _: None
) -> tuple[pd.DataFrame, list[bool]]:
    """Setting x group (seedless configs, flattened, without data fields the dataset does not
    read; then the warm-start source: the MF run and how it was trained; then what the results
    record beyond the config that changes numbers: processes, backbone identity, training code,
    `result.*`); which rows differ between groups."""
    flat = [
        {
            **_relevant(flatten_config(seedless_config(g.runs[0].config))),
            **warm_start_settings(g, read),
            **{f"result.{k}": v for k, v in flatten_config(g.runs[0].setting).items()},
        }
        if g.runs
        else {}
        for g in groups
    ]
    keys = list(dict.fromkeys(k for f in flat for k in f))

    def shown(v: object) -> str:
        return json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else ("–" if v is None else str(v))

    frame = pd.DataFrame(
        {t("report.col_setting", lang): keys, **{g.name: [shown(f.get(k)) for k in keys] for g, f in zip(groups, flat)}}
    )
    differs = [len({shown(f.get(k)) for f in flat}) > 1 for k in keys]
    return frame, differs


def _this_machine() -> dict[str, str]:
    out = {"python": platform.python_version(), "platform": platform.platform(), "cpu_count": str(os.cpu_count())}
    for name in ("rec_core", *_PACKAGES):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def _environment_table(
    groups: Sequence[RunGroup], results: Mapping[str, dict[str, Any] | None], lang: str
) -> pd.DataFrame:
    """One column per distinct recorded environment (headed by its runs), then this machine."""
    columns: dict[str, dict[str, Any]] = {}
    runs_of: dict[str, list[str]] = {}
    for g in groups:
        for r in g.runs:
            env = (results.get(r.run_id) or {}).get("environment")
            if not isinstance(env, dict):
                continue
            key = json.dumps(env, sort_keys=True, default=str)
            columns.setdefault(key, env)
            runs_of.setdefault(key, []).append(r.run_id)
    here = _this_machine()
    keys = [k for k in _ENV_KEYS if any(k in env for env in columns.values()) or k in here]
    keys += [k for k in here if k not in keys]
    frame = pd.DataFrame({t("report.col_setting", lang): [t(f"report.env.{k}", lang, default=k) for k in keys]})
    for key, env in columns.items():
        runs = runs_of[key]
        head = ", ".join(runs[:3]) + (f" (+{len(runs) - 3})" if len(runs) > 3 else "")
        frame[head] = ["–" if env.get(k) is None else str(env.get(k)) for k in keys]
    frame[t("report.this_machine", lang)] = [here.get(k, "–") for k in keys]
    return frame


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
# Plotly sizes a figure to its box when drawn; a printed page is narrower than the window.
_PRINT_JS = """
window.addEventListener('beforeprint', function () {
  document.querySelectorAll('.js-plotly-plot').forEach(function (p) { Plotly.Plots.resize(p); });
});
"""


def build_report(inputs: ReportInputs, lang: str, now: datetime | None = None) -> Report:
    """The report of `inputs` in `lang` (see the module docstring)."""
    import plotly.offline

    style = Style(lang, inputs.presentation)
    groups = list(inputs.groups)
    ref = inputs.reference
    colours = run_colours([g.name for g in groups])
    read = inputs.results.get
    random = random_reference(ref, read) if ref is not None else {}
    summary = summary_table(groups, TABLE_METRICS)
    diffs = differences_table(list(inputs.comparisons), random)
    tables: dict[str, pd.DataFrame] = {
        "runs": _runs_table(groups, lang),
        "summary": summary_display(summary, inputs.metrics, lang, random, len(ref.runs) if ref else 0),
        "differences": differences_display(diffs, inputs.metrics, lang),
    }
    configs = {r.run_id: r.config for g in groups for r in g.runs}
    config_frame, differs = _config_table(groups, lang, read)
    tables["configs"] = config_frame
    warm = warm_start_table(groups, read)
    if not warm.empty:
        tables["warm_starts"] = warm_start_display(warm, lang)
    controls = list(inputs.control_comparisons)
    control_diffs = differences_table(controls)
    if not control_diffs.empty:
        tables["differences_control"] = differences_display(control_diffs, inputs.metrics, lang)
    tables["environment"] = _environment_table(groups, inputs.results, lang)

    figures: dict[str, go.Figure] = {"metrics": metric_bars(summary, inputs.metrics, style, colours=colours)}
    segments = segment_table(groups, read, inputs.segment_metric)
    for kind in ("item", "user"):
        if (segments["kind"] == kind).any():
            figures[f"segments-{kind}"] = segment_bars(segments, inputs.segment_metric, kind, style, colours=colours)
    if any(inputs.histories.values()):
        curve_colours = {name: colours.get(inputs.curve_groups.get(name, name), "") for name in inputs.histories}
        figures["training-curves"] = training_curves(
            inputs.histories, style, colours={k: v for k, v in curve_colours.items() if v}
        )
    extras: dict[str, list[tuple[str, go.Figure | None, str]]] = {"attention": [], "projection": []}
    for extra in inputs.extras:
        try:
            fig: go.Figure | None = extra.build(style)
        except Exception:  # noqa: BLE001 - one analysis figure must not cost the whole report
            fig = None
        name = extra.name if extra.name not in figures else f"{extra.name}-{len(figures)}"
        if fig is not None:
            figures[name] = fig
        extras[extra.kind].append((name, fig, extra.caption(lang)))

    def figure_block(name: str, caption: str = "") -> str:
        cap = f'<p class="caption">{_esc(caption)}</p>' if caption else ""
        return f'<div class="figure">{cap}{_figure_html(figures[name], name)}</div>'

    def extra_blocks(kind: str, none_key: str) -> str:
        if not extras[kind]:
            return f'<p class="note">{_esc(t(none_key, lang))}</p>'
        return "".join(
            figure_block(n, c)
            if f is not None
            else f'<p class="note">{_esc(c)}: {_esc(t("report.no_figure", lang))}</p>'
            for n, f, c in extras[kind]
        )

    sentences = verdict_sentences(list(inputs.comparisons), inputs.metrics, lang)
    splits = sorted({str(r.split) for g in groups for r in g.runs})
    body: dict[str, str] = {}
    body["runs"] = (
        f'<p class="note">{_esc(t("report.runs_note", lang))}</p>'
        + _table(tables["runs"])
        + _table(config_frame, differs)
        + (
            f"<h3>{_esc(t('compare.warm_sources', lang))}</h3>" + _table(tables["warm_starts"])
            if not warm.empty
            else ""
        )
    )
    comparison = [
        f"<p>{_markdown(t('compare.rule', lang))}</p>",
        _table(tables["summary"]),
        f'<p class="note">{_esc(t("compare.table_note", lang))}'
        + (f" {_esc(t('compare.random_note', lang))}" if random else "")
        + "</p>",
    ]
    if sentences:
        comparison.append(
            f"<h3>{_esc(t('report.verdicts', lang))}</h3><ul>"
            + "".join(f"<li>{_markdown(s)}</li>" for s in sentences)
            + "</ul>"
        )
    for gc in inputs.comparisons:
        if gc.error:
            comparison.append(
                f'<p class="note">{_esc(t("compare.cannot_pair", lang, group=gc.group, error=gc.error))}</p>'
            )
    if ref is not None and not diffs.empty:
        comparison.append(
            f"<h3>{_esc(t('report.differences', lang, reference=ref.name))}</h3>" + _table(tables["differences"])
        )
    else:
        comparison.append(f'<p class="note">{_esc(t("report.no_differences", lang))}</p>')
    if controls or inputs.missing_controls:
        comparison.append(
            f"<h3>{_esc(t('compare.control_heading', lang))}</h3><p>{_markdown(t('compare.control_rule', lang))}</p>"
        )
        control_sentences = verdict_sentences(controls, inputs.metrics, lang)
        if control_sentences:
            comparison.append("<ul>" + "".join(f"<li>{_markdown(s)}</li>" for s in control_sentences) + "</ul>")
        if "differences_control" in tables:
            comparison.append(_table(tables["differences_control"]))
        for name in inputs.missing_controls:
            comparison.append(f'<p class="note">{_markdown(t("compare.no_control", lang, group=name))}</p>')
    comparison.append(figure_block("metrics"))
    body["comparison"] = "".join(comparison)
    body["segments"] = (
        "".join(figure_block(n) for n in figures if n.startswith("segments-"))
        or f'<p class="note">{_esc(t("report.no_figure", lang))}</p>'
    )
    body["curves"] = (
        f'<p class="note">{_esc(t("report.curves_note", lang))}</p>' + figure_block("training-curves")
        if "training-curves" in figures
        else f'<p class="note">{_esc(t("report.no_figure", lang))}</p>'
    )
    body["attention"] = extra_blocks("attention", "report.none_attention")
    body["projections"] = extra_blocks("projection", "report.none_projection")
    body["protocol"] = (
        "<p>"
        + _esc(t("report.protocol", lang, splits=", ".join(t(f"split.{s}", lang, default=s) for s in splits) or "–"))
        + "</p>"
    )
    body["environment"] = f'<p class="note">{_esc(t("report.environment_note", lang))}</p>' + _table(
        tables["environment"]
    )
    titles = {
        "runs": "report.s_runs",
        "comparison": "report.s_comparison",
        "segments": "report.s_segments",
        "curves": "report.s_curves",
        "attention": "report.s_attention",
        "projections": "report.s_projections",
        "protocol": "report.s_protocol",
        "environment": "report.s_environment",
    }

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
    nav = "".join(f'<li><a href="#{s}">{_esc(t(titles[s], lang))}</a></li>' for s in SECTIONS)
    sections = "".join(f'<section id="{s}"><h2>{_esc(t(titles[s], lang))}</h2>{body[s]}</section>' for s in SECTIONS)
    page = (
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(t('report.heading', lang))}: {_esc(models)}</title><style>{_CSS}</style>"
        f'<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script></head><body>'
        f'<h1>{_esc(t("report.title", lang, models=models))}</h1><p class="meta">{_esc(meta)}</p>'
        f'<p class="note print-hint">{_esc(t("report.print_hint", lang))}</p>'
        f"<nav><h3>{_esc(t('report.contents', lang))}</h3><ol>{nav}</ol></nav>{sections}"
        f"<script>{_PRINT_JS}</script></body></html>"
    )
    return Report(page, lang, figures, tables, configs)


def _markdown(text: str) -> str:
    """The few markdown marks our sentences use (**bold**), escaped otherwise."""
    parts = html.escape(text).split("**")
    return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))


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
