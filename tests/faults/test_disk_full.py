"""A full disk (ENOSPC) while a run writes: the real cause reaches the status, or failure.json
and the next listing when even status.json cannot be written; the CLI prints one line."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from rec_core.cli import main
from rec_core.runs import RunStore
from rec_core.runs import run as run_module
from rec_core.runs.run import Run
from tests.faults.util import SYN, one_error_line

TRAIN = ["train", *SYN, "--model", "mf", "--embed-dim", "8", "--epochs", "2", "--batch-size", "256", "--quiet"]


def _full(*_args: object, **_kw: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_enospc_writing_a_table_reaches_the_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(Run, "write_table", _full)
    assert main([*TRAIN, "--runs-dir", str(tmp_path), "--run-id", "full"]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "No space left on device" in line and "marked failed" in line
    st = RunStore(tmp_path).get("full").status()
    assert st["state"] == "failed" and "No space left on device" in st["error"]
    assert "OSError" in st["traceback"]  # the traceback is kept in the run, not printed
    listed = {s.run_id: s for s in RunStore(tmp_path).list()}["full"]
    assert listed.state == "failed" and "No space left on device" in (listed.error or "")


def test_enospc_everywhere_goes_to_failure_json_and_the_next_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    def disk_fills_up(*_args: object, **_kw: object) -> None:
        # From now on status.json cannot be written either.
        monkeypatch.setattr(run_module, "write_json_atomic", _full)
        _full()

    monkeypatch.setattr(Run, "write_table", disk_fills_up)
    assert main([*TRAIN, "--runs-dir", str(tmp_path), "--run-id", "full"]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "No space left on device" in line and "status.json could not be written" in line
    assert "recorded in failure.json" in line
    monkeypatch.undo()
    run = RunStore(tmp_path).get("full")
    assert run.raw_status()["state"] == "running"  # what the disk kept
    st = run.status()  # the process is this one, still alive: failure.json says how it ended
    assert st["state"] == "failed" and "No space left on device" in st["error"] and "failure.json" in st["error"]
    listed = {s.run_id: s for s in RunStore(tmp_path).list()}["full"]
    assert listed.state == "failed" and "No space left on device" in (listed.error or "")


def test_failure_json_of_an_earlier_attempt_is_ignored(tmp_path: Path) -> None:
    run = RunStore(tmp_path).create({}, run_id="r")
    run.reserve_failure_note()
    assert run.record_failure_in_place("OSError: No space left on device", pid=1)
    run.set_status("running", pid=__import__("os").getpid())
    assert run.status()["state"] == "running"  # another pid wrote it: not this attempt's


def test_enospc_on_the_first_status_write_is_not_queued_forever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    # A disk with a few KB free: the run folder was created, but not one status write after it
    # succeeds. Before: the CLI said "marked failed" while the listing said queued, forever.
    monkeypatch.setattr(run_module, "write_json_atomic", _full)
    assert main([*TRAIN, "--runs-dir", str(tmp_path), "--run-id", "full"]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "No space left on device" in line and "recorded in failure.json" in line
    monkeypatch.undo()
    run = RunStore(tmp_path).get("full")
    assert run.raw_status()["state"] == "queued"  # what the disk kept
    listed = {s.run_id: s for s in RunStore(tmp_path).list()}["full"]
    assert listed.state == "failed" and "No space left on device" in (listed.error or "")


def test_run_whose_creator_died_before_starting_it_reads_failed(tmp_path: Path) -> None:
    # Killed between creating the folder and the first status write: no pid of a runner to check.
    import subprocess
    import sys

    from tests.faults.util import REPO, env

    kill_at_start = (
        "import os, signal, sys; from rec_core.runs.run import Run\n"
        "Run.reserve_failure_note = lambda self: os.kill(os.getpid(), signal.SIGKILL)\n"
        "from rec_core.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    argv = [sys.executable, "-c", kill_at_start, *TRAIN, "--runs-dir", str(tmp_path), "--run-id", "k"]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env(tmp_path), cwd=REPO, timeout=300)
    assert proc.returncode == -9, proc.stderr
    run = RunStore(tmp_path).get("k")
    assert run.raw_status()["state"] == "queued"
    st = run.status()
    assert st["state"] == "failed" and "never started" in st["error"] and f"process {st['pid']}," in st["error"]
    listing = subprocess.run(
        [sys.executable, "-m", "rec_core", "runs", "--runs-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env(tmp_path),
        cwd=REPO,
        timeout=120,
    )
    assert "failed" in listing.stdout and "queued" not in listing.stdout


def test_queued_run_without_an_owner_is_abandoned_after_an_hour(tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    store = RunStore(tmp_path)
    fresh, old = store.create({}, run_id="fresh"), store.create({}, run_id="old")
    hours_ago = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat()
    old.set_status(created_at=hours_ago)
    assert fresh.status()["state"] == "queued"  # someone may still start it
    st = old.status()
    assert st["state"] == "failed" and "no process took it up" in st["error"]
    queued = store.create({}, run_id="queue")
    queued.set_status("queued", command=["python", "-m", "rec_core", "execute", "queue"], created_at=hours_ago)
    assert queued.status()["state"] == "queued"  # the queue's: it waits for its turn
