"""The suite's two modes (tests/conftest.py): a plain local run deselects slow and browser
tests and says so; CI (CI=true) runs everything and turns a skip into a failure.

Each case runs pytest for real on a tiny test file beside a copy of the conftest."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

CONFTEST = Path(__file__).resolve().parent / "conftest.py"
SAMPLE = """
import pytest

@pytest.mark.slow
def test_slow(): pass

@pytest.mark.browser
def test_in_a_browser(): pass

def test_fast(): pass

def test_needs_a_tool(): pytest.skip("no such tool here")
"""


def _pytest(folder: Path, *args: str, ci: bool) -> tuple[dict[str, int], str]:
    """Outcome counts ({"passed": 1, ...}) and output of `pytest ARGS` run in `folder`."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "true"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    last = proc.stdout.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", last)}, proc.stdout


@pytest.fixture()
def sample(tmp_path: Path) -> Path:
    (tmp_path / "conftest.py").write_text(CONFTEST.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nmarkers =\n    slow: slow\n    browser: browser\n", encoding="utf-8"
    )
    (tmp_path / "test_sample.py").write_text(SAMPLE, encoding="utf-8")
    return tmp_path


def test_a_plain_local_run_deselects_slow_and_browser_tests_and_says_so(sample: Path) -> None:
    counts, out = _pytest(sample, ci=False)
    assert counts == {"passed": 1, "skipped": 1, "deselected": 2}, out
    assert "2 slow / browser tests deselected" in out and "--all" in out


@pytest.mark.parametrize(
    "args",
    [["--all"], ["test_sample.py"], ["-m", "slow or not slow"]],
    ids=["--all", "named-file", "marker-expression"],
)
def test_asking_for_them_runs_them_locally(sample: Path, args: list[str]) -> None:
    counts, out = _pytest(sample, *args, ci=False)
    assert counts == {"passed": 3, "skipped": 1}, out


def test_ci_runs_everything_and_a_skip_fails(sample: Path) -> None:
    counts, out = _pytest(sample, ci=True)
    assert counts == {"failed": 1, "passed": 3}, out
    assert "skipped in CI, where every test must run" in out and "no such tool here" in out
