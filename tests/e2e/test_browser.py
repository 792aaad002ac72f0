"""End to end in a real headless Chromium: `streamlit run app.py`, launch a short run from the
Train page, wait until it is done, open Compare and read its metrics from the table.

Needs Debian's `chromium` (no browser download). Locally a missing browser skips the test;
in CI (CI=true) it fails, so the browser path is never silently untested.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _require(what: str, ok: bool) -> None:
    if ok:
        return
    message = f"{what} is needed for the browser test"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: not skipping)")
    pytest.skip(message)


def _chromium() -> str:
    path = os.environ.get("BROWSER_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    _require(f"Chromium ({path})", Path(path).is_file())
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "streamlit exited early"
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("streamlit did not become healthy")


@pytest.fixture()
def app(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, runs folder) of a fresh `streamlit run app.py` on a free port."""
    port = _free_port()
    runs = tmp_path / "runs"
    env = {**os.environ, "REC_CORE_RUNS": str(runs), "REC_CORE_CACHE": str(tmp_path / "cache")}
    log = open(tmp_path / "streamlit.log", "wb")  # closed in teardown
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url, runs
    finally:
        proc.terminate()  # the server we started above, by its handle
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _select(page, label: str, option: str) -> None:  # page: a playwright Page
    page.get_by_test_id("stSelectbox").filter(has_text=label).first.click()
    page.get_by_role("option", name=option).first.click()


def _number(page, label: str, value: int) -> None:  # page: a playwright Page
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Tab")


def test_train_a_tiny_run_then_see_it_in_compare(app: tuple[str, Path]) -> None:
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require("playwright (pip install -r requirements-dev.txt)", False)
    url, runs = app
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(120_000)
        page.goto(f"{url}/Train")
        page.get_by_role("button", name="Launch").wait_for()
        _select(page, "Dataset", "Synthetic (generated)")
        _select(page, "Model", "LLM-enhanced (GPT2RecommenderEnhanced)")
        page.get_by_label("Synthetic users", exact=True).wait_for()
        _select(page, "Text backbone", "tiny-gpt2 (random weights: tests only)")
        _number(page, "Synthetic users", 120)
        _number(page, "Synthetic items", 90)
        _number(page, "Tokens per text", 32)
        _number(page, "Epochs", 2)
        page.get_by_role("button", name="Launch").click()
        page.get_by_text(re.compile(r"1 run\(s\) launched")).wait_for()
        # The live panel polls the store until the background process has finished.
        page.get_by_text(re.compile(r" · done$")).first.wait_for(timeout=360_000)
        [run_id] = [d.name for d in runs.iterdir() if not d.name.startswith(".")]
        import json

        results = json.loads((runs / run_id / "results.json").read_text())
        ndcg = f"{results['test']['primary']['metrics']['ndcg@10']:.4f}"
        assert results["model"] == "enhanced" and results["model_info"]["backbone"] == "tiny-gpt2"

        page.get_by_role("link", name="Compare runs").first.click()
        page.get_by_text("Test metrics", exact=True).first.wait_for()
        # The table is a canvas grid; its accessible cells carry the text.
        cells = page.locator('[role="gridcell"]')
        cells.first.wait_for(state="attached")
        texts = cells.all_inner_texts()
        assert ndcg in texts, (ndcg, texts)
        # The group is named by what the run ran with (its config's switches), not by its kind.
        from rec_app.model_names import model_display_name

        config = json.loads((runs / run_id / "config.json").read_text())
        assert model_display_name(config) in texts and model_display_name(config).startswith("LLM-enhanced ("), texts
        browser.close()
