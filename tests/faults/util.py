"""Shared by the fault corpus: a tiny finished run, subprocess CLI calls and their checks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SYN = ["--dataset", "synthetic", "--synthetic-users", "120", "--synthetic-items", "90"]


def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "REC_CORE_CACHE": str(tmp_path / "cache")}


def cli(tmp_path: Path, *args: str, timeout: float = 300, **kw: object) -> subprocess.CompletedProcess[str]:
    """`python -m rec_core ARGS` in a subprocess (text output captured)."""
    return subprocess.run(
        [sys.executable, "-m", "rec_core", *args],
        capture_output=True,
        text=True,
        env=env(tmp_path),
        cwd=REPO,
        timeout=timeout,
        **kw,
    )  # type: ignore[call-overload]  # **kw: more subprocess.run options


def one_error_line(stderr: str) -> str:
    """The single `error:` line of a refusal; fails on a traceback or on several lines."""
    assert "Traceback" not in stderr, stderr
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), stderr
    return lines[0]


def wait_for(predicate: Callable[[], bool], timeout: float = 120.0, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(step)
