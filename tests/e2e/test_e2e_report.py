"""The defence report in a real headless Chromium with the network blocked: every section shows,
every figure draws (plotly.js is inline), Chinese renders, and it prints to PDF.

The report is built from the analysis store by `rec_app.report` (what Compare's "Export
report" downloads), written to a file and opened from disk. Needs Debian's chromium: locally
a missing browser skips, in CI (CI=true) it fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rec_app.report import SECTIONS, build_report
from tests.e2e.browser import ARTIFACTS, CHROMIUM_ARGS, chromium, refuse_other_hosts
from tests.report_inputs import report_inputs

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_report_opens_offline_and_shows_every_section(analysis_runs: Path, tmp_path: Path, lang: str) -> None:
    from playwright.sync_api import sync_playwright

    report = build_report(report_inputs(analysis_runs, lang), lang)
    path = tmp_path / f"defence-report-{lang}.html"
    path.write_text(report.html, encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
            _, requested = refuse_other_hosts(context, ("file://", "data:", "blob:", "about:"))
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.goto(path.as_uri())
            page.wait_for_function(
                f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {len(report.figures)}",
                timeout=60_000,
            )
            for section in SECTIONS:
                heading = page.locator(f"section#{section} > h2")
                assert heading.is_visible(), section
                heading.scroll_into_view_if_needed()
            # Every figure drew: one plot per figure, each with painted data.
            plots = page.locator(".js-plotly-plot")
            assert plots.count() == len(report.figures)
            for name in report.figures:
                box = page.locator(f"#fig-{name}").bounding_box()
                assert box is not None and box["width"] > 300 and box["height"] > 200, name
            assert page.locator("#fig-attention-tokens .hm, #fig-attention-tokens .heatmaplayer image").count() >= 1
            assert page.locator("#fig-projection .scatterlayer .point").count() >= 90
            # Tables of the comparison and the configs, with their words.
            assert page.locator("section#comparison table").count() >= 2
            if lang == "zh":
                assert "测试集上的对比" in page.locator("section#comparison > h2").inner_text()
                assert "只有一个种子" in page.locator("section#comparison").inner_text()
            else:
                assert "One seed only" in page.locator("section#comparison").inner_text()
            page.screenshot(path=str(ARTIFACTS / f"e2e-report-{lang}.png"), full_page=True)
            # Printable: the browser's print to PDF gives pages (sections break inside A4).
            page.emulate_media(media="print")
            pdf = page.pdf(format="A4", print_background=True)
            assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 4
            (ARTIFACTS / f"e2e-report-{lang}.pdf").write_bytes(pdf)
            assert not requested, requested
            assert not errors, errors
        finally:
            browser.close()
