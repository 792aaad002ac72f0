"""The Train page in a real headless Chromium (issue 11): values set in the form survive a visit
to another page; two seeds launched into a one-slot queue show one row each with its seed and
state, the queued one below the running one, each with its own Stop; the "waiting in the queue" box and the old
estimate go away on their own once they no longer apply, without a click.

The served app keeps its warm worker on here (the product's launch path). Without Chromium
the test is skipped locally and fails in CI (CI=true).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.browser import CHROMIUM_ARGS, chromium, go, number, select, served_app, settle

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, runs folder) of a fresh `streamlit run app.py`, warm worker on, one slot."""
    runs = tmp_path / "runs"
    with served_app(
        runs,
        tmp_path / "cache",
        tmp_path / "streamlit.log",
        {"REC_CORE_WARM_WORKER": "1", "REC_CORE_MAX_PARALLEL": "1"},
    ) as url:
        yield url, runs


def test_train_keeps_values_across_pages_and_its_status_boxes_follow_the_runs(served: tuple[str, Path]) -> None:
    executable = chromium()
    from playwright.sync_api import expect, sync_playwright

    url, runs = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        page.set_default_timeout(180_000)
        page.goto(f"{url}/Train")
        page.get_by_role("button", name="Launch").wait_for()
        select(page, "Dataset", "Synthetic (generated)")
        select(page, "Model", "Matrix factorisation (ID only)")
        page.get_by_label("Synthetic users", exact=True).wait_for()
        expect(page.get_by_text("Text backbone")).to_have_count(0)  # the MF rerun is drawn: typing is kept
        number(page, "Synthetic users", 120)
        number(page, "Synthetic items", 90)
        number(page, "Epochs", 30)
        number(page, "Batch size", 16)  # about a thousand steps an epoch: a run lasts while the page is read
        seeds = page.get_by_label("Seeds", exact=True)
        seeds.fill("0, 1")
        seeds.press("Tab")
        settle(page)
        page.get_by_role("button", name="Estimate duration").click()
        estimate = page.get_by_text(re.compile(r"No estimate yet|Estimated duration of one run"))
        estimate.first.wait_for()

        # 1. Leave the page and come back: the values are still there.
        go(page, "Compare runs", "/Compare", page.get_by_role("heading", name="Compare"))
        go(page, "Train a model", "/Train", page.get_by_role("button", name="Launch"))
        expect(page.get_by_label("Epochs", exact=True)).to_have_value("30")
        expect(page.get_by_label("Batch size", exact=True)).to_have_value("16")
        expect(page.get_by_label("Seeds", exact=True)).to_have_value("0, 1")
        expect(page.get_by_label("Synthetic users", exact=True)).to_have_value("120")

        # 4 and 13. Two seeds into one slot: one row each, running above queued; the box about
        # waiting runs is there while one waits and gone once none does, as is the old estimate.
        page.get_by_role("button", name="Launch").click()
        page.get_by_text(re.compile(r"2 run\(s\) launched")).first.wait_for()
        waiting = page.get_by_text(re.compile(r"of the 2 run\(s\) launched here are waiting in the queue"))
        waiting.first.wait_for()
        rows = page.get_by_text(re.compile(r"mf-synthetic-ratio-s[01] · seed [01] · "))
        expect(rows).to_have_count(2)
        labels = rows.all_inner_texts()
        assert "seed 0 · running" in labels[0] and "seed 1 · queued" in labels[1], labels
        expect(page.get_by_role("button", name="Stop seed 1")).to_have_count(1)
        expect(estimate).to_have_count(0)
        page.get_by_text(re.compile(r"seed 1 · done$")).first.wait_for(timeout=600_000)
        page.get_by_text(re.compile(r"seed 0 · done$")).first.wait_for()
        expect(waiting).to_have_count(0)  # nothing waits any more: the box went by itself
        expect(page.get_by_text(re.compile(r"run\(s\) queued"))).to_have_count(0)
        assert len([d for d in runs.iterdir() if not d.name.startswith(".")]) == 2
        browser.close()
