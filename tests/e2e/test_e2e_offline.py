"""A session that visits every page in a real headless Chromium, as a student in a defence room
without network would: no request may leave the machine; the language switch works from the
sidebar of any page; Compare keeps its selection across a visit to another page; no column of
Error analysis is out of view, with run names as long as real ones; Compare's "Export report"
downloads the defence report with the figures just shown, and it draws from disk.

Every request of the browser context is recorded; one to any host but the app's own is refused
and fails the test (Streamlit's `:material/...:` page icons used to fetch their glyph from
fonts.gstatic.com). Needs Debian's chromium: locally a missing browser skips, in CI (CI=true)
it fails.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from rec_app.report import SECTIONS
from tests.app_store import copy_store
from tests.e2e.browser import ARTIFACTS, CHROMIUM_ARGS, chromium, go, refuse_other_hosts, served_app, settle

SLOW_MS = 300_000  # first page: torch import; first projection: UMAP compiles (small shared CPUs)
# Which dataframes overflow sideways (a column out of view): the grid's scroller is wider inside than out.
OVERFLOW_JS = """() => Array.from(document.querySelectorAll('[data-testid="stDataFrame"]')).map(df => {
  const s = df.querySelector('.dvn-scroller');
  return s ? s.scrollWidth - s.clientWidth : 0; })"""

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def app_url(analysis_runs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a copy of the analysis store whose runs carry labels as long as generated names."""
    chromium()
    tmp = tmp_path_factory.mktemp("e2e-offline")
    runs = copy_store(analysis_runs, tmp)
    for folder in runs.iterdir():
        config_file = folder / "config.json"
        if config_file.is_file():
            config = json.loads(config_file.read_text())
            config["label"] = f"{config['label']}-{config['model']['name']}-synthetic-ratio-s0"
            config_file.write_text(json.dumps(config, indent=2))
    with served_app(runs, Path(os.environ.get("REC_CORE_CACHE", str(tmp))), tmp / "server.log") as url:
        yield url


def _settle(page) -> None:  # page: a playwright Page
    settle(page, SLOW_MS)


def _go(page, link: str, path: str, ready, refused: list[str]) -> None:  # page: a playwright Page; ready: a Locator
    """Follow a sidebar link and wait for the page's run to end (`browser.go`); fails at once if
    the page asked for anything from another host."""
    go(page, link, path, ready, SLOW_MS)
    assert not refused, f"{link}: requests that would leave the machine: {sorted(set(refused))}"


def _tags(page) -> list[str]:  # the Compare page's picked models, in order
    return page.get_by_test_id("stMultiSelect").first.locator("[data-tag] > span[title]").all_inner_texts()


def test_a_session_over_every_page_stays_on_this_machine(app_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    local = (app_url, "data:", "blob:", "about:", "file://")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 1800})
            requests, refused = refuse_other_hosts(context, local)
            page = context.new_page()
            page.set_default_timeout(SLOW_MS)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            # Home, then every page through the sidebar, as a user moves around.
            page.goto(app_url)
            page.get_by_role("heading", name="LLM-enhanced recommenders").first.wait_for()
            _settle(page)
            assert not refused, f"Home: requests that would leave the machine: {sorted(set(refused))}"
            _go(page, "Train a model", "/Train", page.get_by_role("button", name="Launch"), refused)
            _go(page, "Compare runs", "/Compare", page.get_by_role("button", name="Export report"), refused)
            # Pick runs on Compare: drop one model, cut-off @5.
            before = _tags(page)
            assert len(before) >= 3, before
            page.get_by_role("button", name=re.compile(r"^Remove noattn")).click()
            _settle(page)
            page.get_by_test_id("stMain").get_by_role("radio", name="@5", exact=True).click()
            _settle(page)
            picked = _tags(page)
            assert picked == [t for t in before if not t.startswith("noattn")], picked

            # Ready once the figures are drawn and offered to the report (the field section comes after).
            _go(page, "Attention", "/Attention", page.get_by_role("heading", name="Attention per field"), refused)
            assert page.locator(".js-plotly-plot .hm").count() >= 1
            # The language switch is in this page's sidebar too.
            page.get_by_test_id("stSidebar").get_by_role("radio", name="简体中文").click()
            page.get_by_role("heading", name="注意力").first.wait_for()
            _settle(page)
            # Back to Compare: the selection and the cut-off are still there (in Chinese now).
            _go(page, "对比实验", "/Compare", page.get_by_role("button", name="导出报告"), refused)
            assert _tags(page) == picked
            expect(page.get_by_test_id("stMain").get_by_role("radio", name="@5", exact=True)).to_be_checked()
            page.get_by_test_id("stSidebar").get_by_role("radio", name="English").click()
            page.get_by_text("Test metrics", exact=True).first.wait_for()
            _settle(page)
            assert _tags(page) == picked

            # Compare's training curves have points too: ready once the note under the projection is drawn.
            _go(page, "Embeddings", "/Embeddings", page.get_by_text("UMAP with "), refused)
            assert page.locator(".js-plotly-plot .scatterlayer .point").count() >= 90
            _go(page, "Error analysis", "/Error_analysis", page.get_by_text("Top-10 of both runs"), refused)
            expect(page.get_by_text("Columns A and B: A = A · ").first).to_be_visible()
            overflow = page.evaluate(OVERFLOW_JS)
            assert len(overflow) >= 6 and all(o <= 1 for o in overflow), overflow  # no column out of view
            page.screenshot(path=str(ARTIFACTS / "e2e-offline-error-analysis.png"), full_page=True)

            # The defence report from Compare, with the heatmaps and projection just shown, opened offline.
            _go(page, "Compare runs", "/Compare", page.get_by_role("button", name="Export report"), refused)
            # Both figures offered to the report (the page's last multiselect) before exporting:
            # on a loaded machine the rerun that lists them can land after the page first paints.
            try:
                page.wait_for_function(
                    "() => { const m = document.querySelectorAll('[data-testid=\"stMultiSelect\"]');"
                    " return m.length >= 2 && m[m.length - 1].querySelectorAll('[data-tag]').length >= 2; }",
                    timeout=SLOW_MS,
                )
            except Exception:  # noqa: BLE001 - keep what the page showed, then fail as before
                page.screenshot(path=str(ARTIFACTS / "e2e-offline-report-missing.png"), full_page=True)
                shown = page.evaluate(
                    "() => Array.from(document.querySelectorAll('[data-testid=\"stMultiSelect\"]'))"
                    ".map(m => m.innerText)"
                )
                raise AssertionError(f"the report does not offer both figures; multiselects shown: {shown}") from None
            _settle(page)
            with page.expect_download(timeout=SLOW_MS) as download:
                page.get_by_role("button", name="Export report").click()
            saved = ARTIFACTS / "e2e-offline-defence-report.html"
            download.value.save_as(saved)
            html = saved.read_text(encoding="utf-8")
            assert all(f'<section id="{s}">' in html for s in SECTIONS)
            assert 'id="fig-attention-tokens"' in html and 'id="fig-projection"' in html
            report = context.new_page()
            report.goto(saved.as_uri())
            report.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 6", timeout=60_000
            )
            report.close()

            icons = page.evaluate("Array.from(document.querySelectorAll('link[rel*=icon]')).map(l => l.href)")
            assert icons and all(i.startswith(("data:", app_url)) for i in icons), icons
            assert any(u.startswith(app_url) for u in requests)
            assert not refused, f"requests that would leave the machine: {sorted(set(refused))}"
            assert not errors, errors
        finally:
            browser.close()
