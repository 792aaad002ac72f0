"""What every browser test shares: Debian's Chromium (no download), a served app of this
checkout on a free port, and waiting for Streamlit to finish a script run.

Locally a missing Chromium or Playwright skips the test; in CI (CI=true) it fails, so the
browser path is never silently untested.
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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"  # screenshots and downloads (gitignored)
# Headless with the network features that call home switched off.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require(what: str, ok: bool) -> None:
    """Skip locally, fail in CI, when `what` is missing."""
    if ok:
        return
    message = f"{what} is needed for the browser tests"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: not skipping)")
    pytest.skip(message)


def chromium() -> str:
    """Path of Debian's Chromium ($BROWSER_PATH first, as kaleido uses it)."""
    found = os.environ.get("BROWSER_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    require("Chromium (apt-get install chromium)", bool(found) and Path(str(found)).is_file())
    try:
        import playwright.sync_api  # noqa: F401 - only whether it is installed
    except ImportError:
        require("playwright (pip install -r requirements-dev.txt)", False)
    return str(found)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served_app(
    runs: Path, cache: Path, log: Path, extra_env: Mapping[str, str] | None = None, start_timeout: float = 120
) -> Iterator[str]:
    """`streamlit run app.py` of this checkout on a free port over the store `runs`; yields its
    URL once healthy and stops the server (by its handle) afterwards. A server that exits or never
    becomes healthy fails the test with the end of its log."""
    port = _free_port()
    env = {**os.environ, "REC_CORE_RUNS": str(runs), "REC_CORE_CACHE": str(cache), **(extra_env or {})}
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + start_timeout
            while not _healthy(url):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the app did not start: {log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.5)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def settle(page: Any, timeout_ms: float = 300_000) -> None:
    """Wait until Streamlit's script run is over (no running indicator) and the page has painted.
    While a run is in progress, elements of the previous run are still on the page (two inputs
    of one label, say): act only on a settled page. `page`: a playwright Page."""
    page.wait_for_timeout(1000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms)
    page.wait_for_timeout(1000)


def go(page: Any, link: str, path: str, ready: Any, timeout_ms: float = 300_000) -> None:
    """Follow the sidebar link `link` to the page served at `path` ("/Embeddings"), as a user
    moves between pages (the session and its state stay), and wait until that page's run is over.

    The previous page's elements stay on screen until the new run replaces them, and on a busy
    machine the new run can start more than a second after the click, before any running
    indicator shows: `settle` alone can then pass on the old page, and the next click interrupts
    the new one half-way. So: the URL first, then `ready` (a Locator of something only the new
    page draws, late in its script), then `settle`."""
    page.get_by_test_id("stSidebar").get_by_role("link", name=link).first.click()
    page.wait_for_url(re.compile(re.escape(path) + r"(\?|$)"), timeout=timeout_ms)
    ready.first.wait_for(timeout=timeout_ms)
    settle(page, timeout_ms)


def select(page: Any, label: str, option: str) -> None:
    """Choose `option` in the selectbox labelled `label`, and wait for the rerun it causes."""
    page.get_by_test_id("stSelectbox").filter(has_text=label).first.click()
    page.get_by_role("option", name=option).first.click()
    settle(page)


def number(page: Any, label: str, value: int) -> None:
    """Type `value` into the number input labelled `label` (Tab commits it), and wait for the rerun."""
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Tab")
    settle(page)


def refuse_other_hosts(context: Any, allowed: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Route every request of the browser `context`: one whose URL starts with an `allowed`
    prefix goes through, any other is aborted. Returns (every URL requested, the refused ones),
    filled as the pages load."""
    requested: list[str] = []
    refused: list[str] = []

    def route(r: Any) -> None:  # r: a playwright Route
        url = r.request.url
        requested.append(url)
        if url.startswith(allowed):
            r.continue_()
        else:
            refused.append(url)
            r.abort()

    context.route("**/*", route)
    return requested, refused
