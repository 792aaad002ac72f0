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
