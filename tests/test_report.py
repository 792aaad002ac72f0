"""rec_app.report: the defence report's HTML and ZIP, from real tiny runs, in both languages."""

from __future__ import annotations

import io
import re
import zipfile
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest

from rec_app.report import SECTIONS, Report, build_report, report_zip
from tests.report_inputs import report_inputs


@lru_cache(maxsize=2)
def _built(root: Path, lang: str) -> Report:
    return build_report(report_inputs(root, lang), lang)


@pytest.fixture()
def report_en(analysis_runs: Path) -> Report:
    return _built(analysis_runs, "en")


def _text(page: str) -> str:
    """The report's visible text (the plotly.js bundle and figure scripts left out)."""
    return re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", " ", page, flags=re.S))


def test_every_section_is_in_the_report(report_en: Report) -> None:
    page = report_en.html
    for section in SECTIONS:
        assert f'<section id="{section}">' in page, section
    text = _text(page)
    for heading in (
        "Runs and their configurations",
        "Comparison on the test split",
        "Verdicts in words",
        "Test metrics by segment",
        "Training curves",
        "Attention heatmaps",
        "Embedding projections",
        "Evaluation protocol",
        "Versions and machine",
    ):
        assert heading in text, heading
    # Verdicts in words, seed-aware, and the differences with their test.
    assert re.search(r"attn-c0\s+vs mf \(\d+ paired users, 1 seed\(s\), Wilcoxon over users\)", text)
    assert "One seed only: seed variation is not covered" in text
    assert "test NDCG@10" in text and "Random ranking (expected)" in text
    # Configs: every run, the settings that differ between groups marked.
    for run_id in ("attn-c0", "attn-c01", "noattn", "mf"):
        assert run_id in text
    assert "LLM-enhanced (scheme 1: no attention, cached text) · tiny-gpt2" in text  # what each run ran
    assert '<tr class="differs"><td>model.contrastive_weight</td>' in page
    # Versions and the machine.
    assert "torch" in text and "cpu_count" not in text and "CPU cores" in text
    assert "this report" in text


def test_every_figure_is_drawn_with_plotly_inline_and_nothing_from_a_network(report_en: Report) -> None:
    report = report_en
    page = report.html
    assert set(report.figures) >= {
        "metrics",
        "segments-item",
        "segments-user",
        "training-curves",
        "attention-tokens",
        "projection",
    }
    for name in report.figures:
        assert f'id="fig-{name}"' in page
    assert page.count("Plotly.newPlot(") == len(report.figures)
    # plotly.js inline, once; nothing outside it names another host (inside, only the defaults of
    # features no figure here uses, such as geo maps' topojson address).
    bundle = re.search(r'<script type="text/javascript">(.*?)</script>', page, flags=re.S)
    assert bundle is not None and len(bundle.group(1)) > 1_000_000 and page.count(bundle.group(1)) == 1
    rest = page.replace(bundle.group(1), "")
    assert not re.search(r"https?://(?!www\.w3\.org/)", rest), re.findall(r"https?://[^\s\"']+", rest)[:5]
    assert not re.search(r'(src|href)\s*=\s*["\']?//', rest) and "@import" not in rest
    assert "@media print" in page and "@page" in page  # printable


def test_the_report_in_chinese(analysis_runs: Path) -> None:
    page = _built(analysis_runs, "zh").html
    text = _text(page)
    assert '<html lang="zh-CN">' in page
    for heading in (
        "实验及其配置",
        "测试集上的对比",
        "文字结论",
        "训练曲线",
        "注意力热力图",
        "嵌入投影",
        "评估协议",
        "版本与机器",
    ):
        assert heading in text, heading
    assert "测试集 NDCG@10" in text and "只有一个种子" in text


def test_a_report_without_analysis_figures_says_where_they_come_from(analysis_runs: Path) -> None:
    inputs = report_inputs(analysis_runs, extras=False)
    text = _text(build_report(inputs, "en").html)
    assert "No attention heatmap was selected" in text and "No embedding projection was selected" in text


def test_the_zip_holds_the_report_tables_configs_and_figures(report_en: Report) -> None:
    report = report_en
    data = report_zip(report, images=False)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        assert {
            "report.html",
            "README.txt",
            "tables/summary.csv",
            "tables/differences.csv",
            "tables/runs.csv",
            "tables/configs.csv",
            "tables/environment.csv",
        } <= names
        assert {f"configs/{r}.json" for r in ("attn-c0", "attn-c01", "noattn", "mf")} <= names
        assert {f"figures/{n}.json" for n in report.figures} <= names
        assert zf.read("report.html").decode("utf-8") == report.html
        summary = pd.read_csv(io.BytesIO(zf.read("tables/summary.csv")), encoding="utf-8-sig")
        assert "test NDCG@10" in summary.columns


@pytest.mark.slow
def test_the_zip_renders_every_figure_as_svg(report_en: Report) -> None:
    report = report_en
    with zipfile.ZipFile(io.BytesIO(report_zip(report))) as zf:
        svgs = [n for n in zf.namelist() if n.endswith(".svg")]
        assert sorted(svgs) == sorted(f"figures/{n}.svg" for n in report.figures), zf.namelist()
        assert all(zf.read(n).lstrip().startswith(b"<svg") for n in svgs)


def test_the_config_table_shows_what_changes_results_and_only_fields_the_dataset_reads() -> None:
    """Issue 23: the table listed synthetic_* and csv_* fields for ML-100K, and two MF groups that
    differed only in their processes had identical columns."""
    import dataclasses

    from rec_app.compare.groups import group_runs
    from rec_app.report.tables import _config_table
    from tests.rows import run_row

    config = {
        "data": {"name": "ml-100k", "synthetic_users": 600, "csv_sep": ",", "min_rating": None},
        "split": {"kind": "ratio", "seed": 0},
        "model": {"name": "mf", "embed_dim": 64},
        "seed": 0,
    }
    rows = [
        run_row(run_id=f"r{p}", state="done", config=config, metrics={"ndcg@10": 0.1}, has_results=True) for p in (1, 2)
    ]
    rows[1] = dataclasses.replace(rows[1], setting={"processes": 2})
    frame, differs = _config_table(group_runs(rows), "en")
    settings = list(frame.iloc[:, 0])
    assert "data.min_rating" in settings and not any("synthetic_" in s or "csv_" in s for s in settings)
    row = settings.index("result.processes")
    assert differs[row] and frame.iloc[row, 1:].tolist() in (["–", "2"], ["2", "–"])
    assert frame.iloc[:, 1].tolist() != frame.iloc[:, 2].tolist()  # no two identical columns
