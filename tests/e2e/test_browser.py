"""End to end in a real headless Chromium: `streamlit run app.py`, launch a short run from the
Train page, wait until it is done, open Compare and read its metrics from the table.

Needs Debian's `chromium` (no browser download). Locally a missing browser skips the test;
in CI (CI=true) it fails, so the browser path is never silently untested.
"""

from __future__ import annotations

import json
import time
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.browser import CHROMIUM_ARGS, chromium, go, number, select, served_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture()
def app(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, runs folder) of a fresh `streamlit run app.py`."""
    runs = tmp_path / "runs"
    with served_app(runs, tmp_path / "cache", tmp_path / "streamlit.log") as url:
        yield url, runs


def test_train_a_tiny_run_then_see_it_in_compare(app: tuple[str, Path]) -> None:
    executable = chromium()
    from playwright.sync_api import sync_playwright

    url, runs = app
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(120_000)
        page.goto(f"{url}/Train")
        page.get_by_role("button", name="Launch").wait_for()
        select(page, "Dataset", "Synthetic (generated)")
        select(page, "Model", "LLM-enhanced (GPT2RecommenderEnhanced)")
        page.get_by_label("Synthetic users", exact=True).wait_for()
        # The ratio split opens on its warm recipe (it starts from an MF run): scheme 1 instead.
        page.get_by_test_id("stMain").get_by_text("Scheme 1 · fast", exact=True).click()
        page.get_by_text("Frozen cached text features", exact=False).first.wait_for()
        select(page, "Text backbone", "tiny-gpt2 (random weights: tests only)")
        number(page, "Synthetic users", 120)
        number(page, "Synthetic items", 90)
        number(page, "Tokens per text", 32)
        number(page, "Epochs", 2)
        page.get_by_role("button", name="Launch").click()
        page.get_by_text(re.compile(r"1 run\(s\) launched")).wait_for()
        # The live panel polls the store until the background process has finished.
        page.get_by_text(re.compile(r" · done$")).first.wait_for(timeout=360_000)
        [run_id] = [d.name for d in runs.iterdir() if not d.name.startswith(".")]
        results = json.loads((runs / run_id / "results.json").read_text())
        ndcg = f"{results['test']['primary']['metrics']['ndcg@10']:.4f}"
        assert results["model"] == "enhanced" and results["model_info"]["backbone"] == "tiny-gpt2"

        go(page, "Compare runs", "/Compare", page.get_by_text("Test metrics", exact=True))
        # The table is a canvas grid; its accessible cells carry the text.
        cells = page.locator('[role="gridcell"]')
        cells.first.wait_for(state="attached")
        texts = cells.all_inner_texts()
        assert ndcg in texts, (ndcg, texts)
        # The group is named by what the run ran with (its config's switches), not by its kind: a
        # short label in the table, the full name in the legend expander.
        from rec_app.runs.model_names import model_display_name, model_short_name

        config = json.loads((runs / run_id / "config.json").read_text())
        assert model_short_name(config) in texts and model_short_name(config).startswith("Enhanced S1"), texts
        page.get_by_text("What the labels stand for").click()
        full = model_display_name(config)
        deadline = time.monotonic() + 60
        while full not in (shown := page.locator('[role="gridcell"]').all_inner_texts()):
            assert time.monotonic() < deadline, (full, shown)
            page.wait_for_timeout(500)
        assert full.startswith("LLM-enhanced (")
        browser.close()
