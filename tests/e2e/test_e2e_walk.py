"""Defects of the newcomer walk (issue 23) that only a real browser shows, in headless Chromium.

- CSV column choices follow each uploaded file (item 2): a keyed select box keeps its identity
  when its options change, so the browser kept showing, and sending back, the first file's
  columns (Rating stayed "—" and ratings such as "five" were silently dropped); AppTest has no
  browser-side widget state and never saw it.
- The estimate box's icon is drawn from the bundled Material Symbols font (minor): the ⏱️
  emoji rendered as a missing glyph where no colour-emoji font is installed.

Without Chromium the tests are skipped locally and fail in CI (CI=true).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.browser import CHROMIUM_ARGS, chromium, select, served_app, settle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WRONG_COLUMNS = b"uid,iid\nu1,i1\nu2,i2\n"
WORDS_FOR_RATINGS = b"user,item,rating,time\nu1,i1,five,100\nu1,i2,4,200\nu2,i1,3,150\nu2,i2,2,160\n"


@pytest.fixture()
def served_runs(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The served app (no calibration) and its runs folder."""
    env = {"REC_CORE_CALIBRATE": "0"}
    with served_app(tmp_path / "runs", tmp_path / "cache", tmp_path / "streamlit.log", env) as url:
        yield url, tmp_path / "runs"


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[str]:
    # No calibration: it would compete for the cores; the estimate box shows its icon either way.
    env = {"REC_CORE_CALIBRATE": "0"}
    with served_app(tmp_path / "runs", tmp_path / "cache", tmp_path / "streamlit.log", env) as url:
        yield url


@contextlib.contextmanager
def _train_page(served: str) -> Iterator[object]:
    """Headless Chromium on the Train page, ready (its Launch button drawn)."""
    executable = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        page.set_default_timeout(180_000)
        page.goto(f"{served}/Train")
        page.get_by_role("button", name="Launch").wait_for()
        try:
            yield page
        finally:
            browser.close()


def _chosen_becomes(page: object, label: str, value: str, timeout_s: float = 60.0) -> bool:
    """Whether the select box labelled `label` shows `value` within `timeout_s` (a rerun after an
    upload can reach the browser a moment after the page first settles, on a busy machine)."""
    deadline = time.monotonic() + timeout_s
    while _chosen(page, label) != value:
        if time.monotonic() > deadline:
            return False
        page.wait_for_timeout(300)  # type: ignore[attr-defined]
    return True


def _upload(page: object, name: str, data: bytes) -> None:
    page.locator("input[type=file]").first.set_input_files(  # type: ignore[attr-defined]
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}]
    )
    settle(page)


def _chosen(page: object, label: str) -> str:
    """The value a select box labelled `label` shows."""
    return str(page.get_by_role("combobox", name=label).first.input_value())  # type: ignore[attr-defined]


def test_csv_columns_follow_each_new_file_and_words_for_ratings_are_an_error(served: str) -> None:
    with _train_page(served) as page:
        for _ in range(3):  # under load a choice made while the page still reruns can be lost
            select(page, "Dataset", "My CSV files")
            if page.get_by_text("Interactions (required)").count():
                break
        _upload(page, "first.csv", WRONG_COLUMNS)
        assert _chosen(page, "Rating column") == "—"
        _upload(page, "ratings.csv", WORDS_FOR_RATINGS)
        # Before the fix the first file's columns stayed ("uid"), however long one waited.
        assert _chosen_becomes(page, "User column", "user"), _chosen(page, "User column")
        assert _chosen(page, "Item column") == "item"
        assert _chosen(page, "Rating column") == "rating" and _chosen(page, "Time column") == "time"
        page.get_by_role("button", name="Check the files").click()
        settle(page)
        alert = page.get_by_text(
            re.compile(r"Rating column \(csv_rating_col\): ratings\.csv line 2: column 'rating' holds 'five'")
        )
        alert.first.wait_for()
        assert page.get_by_text("Files OK").count() == 0


def test_the_estimate_icon_is_a_material_symbol_not_an_emoji(served: str) -> None:
    with _train_page(served) as page:
        select(page, "Dataset", "Synthetic (generated)")
        select(page, "Model", "Matrix factorisation (ID only)")
        page.get_by_role("button", name="Estimate duration").click()
        box = page.get_by_test_id("stAlert").filter(has_text=re.compile(r"No estimate yet|Measuring|Estimated"))
        box.first.wait_for()
        icon = box.first.get_by_test_id("stAlertDynamicIcon")
        assert icon.count() == 1
        # A Material Symbols icon is a ligature word ("timer") drawn by the font Streamlit
        # bundles; an emoji is its own character, a missing glyph without an emoji font.
        assert re.fullmatch(r"[a-z_]+", icon.first.inner_text().strip()), icon.first.inner_text()


def test_a_refused_launch_warns_only_until_an_estimate_is_in(served_runs: tuple[str, Path]) -> None:
    """Issue 23 item 6: the estimate box refreshes by itself in the browser (a fragment), and a
    refused Launch's "no estimate yet" stayed beside the estimate once one came in. AppTest reruns
    the whole page and never saw it."""
    from playwright.sync_api import expect

    served, runs = served_runs
    with _train_page(served) as page:
        select(page, "Model", "Matrix factorisation (ID only)")
        page.get_by_role("button", name="Launch").click()
        settle(page)
        warning = page.get_by_text("There is no estimate for these settings yet")
        warning.first.wait_for()
        # A finished MF run of the same cost settings (the app's one thread, batch 2048, d 64)
        # appears in the store: the box's next refresh prices from it.
        env = {**os.environ, "REC_CORE_DATA": os.environ.get("REC_CORE_DATA", "")}
        args = ["--dataset", "ml-100k", "--model", "mf", "--epochs", "2", "--threads", "1", "--quiet"]
        subprocess.run([sys.executable, "-m", "rec_core", "train", *args, "--runs-dir", str(runs)], check=True, env=env)
        page.get_by_text(re.compile("Estimated duration of one run")).first.wait_for(timeout=120_000)
        # The box refreshes every 2 s and drops the previous render's elements only when its
        # run ends, which under CI's load took more than a fixed 3 s once: poll instead. The
        # defect kept the warning for good, so 30 s (15 refreshes) still catches it.
        expect(warning).to_have_count(0, timeout=30_000)
