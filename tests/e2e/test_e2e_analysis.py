"""The analysis pages in a real browser: a served app, headless Chromium, screenshots as artifacts.

From finished tiny runs: the Attention page draws a heatmap, the Embeddings page a projection,
Error analysis opens one user. Screenshots go to `test-artifacts/` (gitignored). Without
Chromium the test is skipped locally and fails in CI (CI=true), where it must run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app_store import copy_store
from tests.e2e.browser import ARTIFACTS, CHROMIUM_ARGS, chromium, go, served_app, settle

SLOW_MS = 240_000  # first page: torch import; first projection: UMAP compiles (small shared CPUs)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory, analysis_runs: Path) -> Iterator[str]:
    """A Streamlit server of this checkout on a private copy of the analysis runs (the session's
    text cache, which holds their encodings)."""
    chromium()
    tmp = tmp_path_factory.mktemp("e2e-analysis")
    runs = copy_store(analysis_runs, tmp)
    with served_app(runs, Path(os.environ.get("REC_CORE_CACHE", str(tmp))), tmp / "server.log") as url:
        yield url


def test_attention_embeddings_and_error_analysis_in_chromium(app_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 2200})
            page.set_default_timeout(SLOW_MS)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            # Attention: a heatmap of a finished run's cross-attention, token labels readable.
            page.goto(f"{app_url}/Attention?run=attn-c0")
            page.locator(".js-plotly-plot .hm").first.wait_for()
            settle(page, SLOW_MS)
            expect(page.get_by_role("heading", name="Attention").first).to_be_visible()
            assert page.locator(".js-plotly-plot .hm").count() >= 2  # tokens and fields
            assert "1965" in page.locator(".js-plotly-plot").first.inner_text()
            assert page.locator("[data-testid='stException']").count() == 0
            page.screenshot(path=str(ARTIFACTS / "e2e-attention.png"), full_page=True)

            # Embeddings, through the sidebar: a UMAP projection with one point per item and view.
            go(page, "Embeddings", "/Embeddings", page.get_by_text("UMAP with "), SLOW_MS)
            assert page.locator(".js-plotly-plot .scatterlayer .point").count() >= 90
            expect(page.get_by_text("ID–text neighbourhood agreement").first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "e2e-embeddings.png"), full_page=True)

            # Error analysis: one user's case (by default the user A helps most), top-10 of both runs.
            page.goto(f"{app_url}/Error_analysis?run=attn-c0&run=mf")
            page.get_by_text("Top-10 of both runs").first.wait_for()
            settle(page, SLOW_MS)
            user_box = page.locator("input[aria-label='User id']")
            first = user_box.input_value()
            expect(page.get_by_text(f"User {first}", exact=False).first).to_be_visible()
            expect(page.get_by_text("Top-10 of both runs").first).to_be_visible()
            tables = page.locator("[data-testid='stDataFrame']")
            assert tables.count() >= 5
            assert page.locator("[data-testid='stException']").count() == 0
            page.screenshot(path=str(ARTIFACTS / "e2e-error-analysis.png"), full_page=True)
            # Click the second user of "A beats B most" (4th table; the grid is a canvas): it opens above.
            box = tables.nth(3).bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + 15, box["y"] + 35 + 35 + 17)  # the second row's selection cell
            page.wait_for_function(
                f"document.querySelector(\"input[aria-label='User id']\").value !== '{first}'", timeout=SLOW_MS
            )
            settle(page, SLOW_MS)
            opened = user_box.input_value()
            expect(page.get_by_text(f"User {opened}", exact=False).first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "e2e-error-analysis-clicked.png"), full_page=True)
            assert not errors, errors
        finally:
            browser.close()
