"""torchrun: a rank that fails, or a SIGTERM to one rank, through the launcher the app uses
(`python -m rec_core.torchrun`, torchrun's own arguments).

- A failing rank: every process prints one line, rank 1 does not claim it marked the run failed
  (only rank 0 writes the folder), and the launcher ends in one line, not torchrun's traceback.
- SIGTERM to one rank (not to the launcher): every rank stops, and the run says the signal
  reached that process alone; it is not recorded as the user's stop request.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rec_core.runs import RunStore
from tests.faults.util import REPO, wait_for

pytestmark = pytest.mark.slow  # two processes of torch each: > 10 s on a 2-core machine
CONFIG = {
    "data": {"name": "synthetic", "synthetic_users": 120, "synthetic_items": 90},
    "model": {"name": "mf", "embed_dim": 16},
    "train": {"lr": 0.01, "batch_size": 128, "device": "cpu"},
}


def _launch(tmp_path: Path, entry: list[str], run_id: str, **train: int) -> subprocess.Popen[str]:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**CONFIG, "train": {**CONFIG["train"], **train}}), encoding="utf-8")
    argv = [sys.executable, "-m", "rec_core.torchrun", "--standalone", "--nproc_per_node", "2", *entry]
    argv += ["train", "--config", str(config), "--runs-dir", str(tmp_path / "runs"), "--run-id", run_id, "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "REC_CORE_CACHE": str(tmp_path / "cache")}
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)


def test_a_failing_rank_ends_in_one_line_per_process(tmp_path: Path) -> None:
    failing = str(REPO / "tests" / "distributed" / "failing_rank.py")
    proc = _launch(tmp_path, [failing], "broken", epochs=3, patience=0)
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err
    assert "Traceback" not in err, err  # before: torchrun's ChildFailedError traceback and table
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors[-1].startswith("error: ") and "of 2 processes failed; first rank" in errors[-1], err
    rank1 = [line for line in errors if "injected failure on rank 1" in line]
    assert rank1 and "process 1 of 2; process 0 records run broken" in rank1[0]
    assert sum("marked failed" in line for line in errors) == 1  # rank 0's line alone
    status = RunStore(tmp_path / "runs").get("broken").raw_status()
    assert status["state"] == "failed" and "2 processes" in status["error"]


def _rank_pid(launcher: int, rank: str) -> int | None:
    """The pid of the child of `launcher` whose environment says RANK=`rank`."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            if int(stat[stat.rfind(")") + 2 :].split()[1]) != launcher:
                continue
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if f"RANK={rank}".encode() in environ:
            return int(entry)
    return None


def test_sigterm_to_one_rank_is_not_a_user_stop(tmp_path: Path) -> None:
    proc = _launch(tmp_path, ["-m", "rec_core"], "one", epochs=400, patience=0)
    history = tmp_path / "runs" / "one" / "history.jsonl"
    try:
        wait_for(lambda: (history.is_file() and history.read_text().count("\n") >= 2) or proc.poll() is not None, 300)
        assert proc.poll() is None, proc.communicate()
        rank1 = _rank_pid(proc.pid, "1")
        assert rank1 is not None
        os.kill(rank1, signal.SIGTERM)
        _out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Traceback" not in err, err
    run = RunStore(tmp_path / "runs").get("one")
    st = run.status()
    completion = st["completion"]
    assert st["state"] == "stopped" and st["stop_signal"] == "SIGTERM", st
    assert completion["reason"] == "signal" and completion["signal_rank"] == 1  # before: "user_stop"
    assert "stopped by SIGTERM sent to process 1 alone" in completion["summary"]
    assert run.check_files(checksums=True) is None
    assert proc.returncode == 143 and "stopped: process 0 ended after SIGTERM" in err, err
