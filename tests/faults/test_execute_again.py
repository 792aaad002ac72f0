"""`execute` on a run folder that was already carried out, or is being carried out.

- A finished run (done or stopped, with results) is refused without --force, before anything
  is written; with --force its results move to previous/ and stay there until the new
  attempt's are complete, so neither a failing attempt nor an unreadable config loses them.
- A run another live process is running is refused: a second writer interleaves history.
- A killed attempt's epochs do not stay in history.jsonl beside the next attempt's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import rec_core.pipeline as pipeline
from rec_core.cli import main
from rec_core.runs import Run, RunStore
from tests.faults.util import SYN, one_error_line

TRAIN = ["train", *SYN, "--model", "mf", "--embed-dim", "8", "--epochs", "2", "--batch-size", "256", "--quiet"]


@pytest.fixture()
def done(tmp_path: Path) -> Run:
    assert main([*TRAIN, "--runs-dir", str(tmp_path / "runs"), "--run-id", "a"]) == 0
    return RunStore(tmp_path / "runs").get("a")


def _execute(run: Run, *flags: str) -> int:
    return main(["execute", run.run_id, "--runs-dir", str(run.path.parent), "--quiet", *flags])


def _epochs(run: Run) -> list[int]:
    return [int(r["epoch"]) for r in run.history() if r.get("phase") != "initial"]


def test_finished_run_is_refused_without_force_and_loses_nothing(done: Run, capsys: pytest.CaptureFixture) -> None:
    results = (done.path / "results.json").read_bytes()
    capsys.readouterr()
    assert _execute(done) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "is done and has results" in line and "--force" in line
    # Before: results.json was deleted before the config was read; one bad byte lost the metrics.
    with open(done.path / "config.json", "ab") as f:
        f.write(b"\xe9")
    assert _execute(done, "--force") == 2
    assert "config.json" in one_error_line(capsys.readouterr().err)
    assert (done.path / "results.json").read_bytes() == results
    assert done.status()["state"] == "done" and done.check_files(checksums=True) is None


def test_forced_attempt_keeps_the_old_results_until_the_new_ones_are_complete(
    done: Run, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    old = json.loads((done.path / "results.json").read_text(encoding="utf-8"))

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("the new attempt fails")

    monkeypatch.setattr(pipeline, "fit_schedule", boom)
    assert _execute(done, "--force") == 1
    st = done.status()
    assert st["state"] == "failed" and "previous/" in st["error"]
    previous = Run(done.path / "previous")  # the old set, whole: results, tables, model
    assert previous.results() == old and previous.check_files(checksums=True) is None
    assert not (done.path / "results.json").exists() and not (done.path / "history.jsonl").exists()
    monkeypatch.undo()
    capsys.readouterr()
    assert _execute(done) == 0  # failed now: no --force needed
    assert done.status()["state"] == "done" and done.check_files(checksums=True) is None
    assert not (done.path / "previous").exists()  # the new set is complete: the old one goes
    assert _epochs(done) == [1, 2]


def test_running_run_is_refused(done: Run, capsys: pytest.CaptureFixture) -> None:
    # Before: a second process started writing into the same folder (history 1..7, 1, 2, 8, ...).
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        done.set_status("running", pid=other.pid)
        history = (done.path / "history.jsonl").read_bytes()
        capsys.readouterr()
        assert _execute(done, "--force") == 2
        line = one_error_line(capsys.readouterr().err)
        assert f"is running (process {other.pid}" in line and "stop it first" in line
        assert (done.path / "history.jsonl").read_bytes() == history
    finally:
        other.kill()
        other.wait()


def test_the_launchers_own_running_status_is_not_a_second_writer(done: Run) -> None:
    # The app's queue marks the run running with the pid of the process it started (or its
    # own, until that is known): `execute` must go ahead.
    done.set_status("queued")
    done.set_status("running", pid=__import__("os").getpid())
    assert _execute(done) == 0 and done.status()["state"] == "done"


def test_killed_attempt_leaves_no_epochs_in_the_next_ones_history(done: Run) -> None:
    # A killed attempt: running, its process gone, seven epochs logged and no results.
    (done.path / "results.json").unlink()
    for epoch in range(3, 8):
        done.append_history({"epoch": epoch, "loss": 1.0})
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    done.set_status("running", pid=dead.pid)
    assert done.status()["state"] == "failed"
    assert _execute(done) == 0
    assert _epochs(done) == [1, 2]  # before: [1, 2, 3, ..., 7, 1, 2]
    assert not (done.path / "previous").exists()  # a dead attempt's partial outputs are not kept


def test_forced_attempt_stopped_before_its_first_epoch_keeps_the_old_model(done: Run) -> None:
    old = (done.path / "results.json").read_bytes()
    done.request_stop()  # the new attempt stops at once: no epoch, no model
    assert _execute(done, "--force") == 0
    assert done.status()["state"] == "stopped" and not (done.path / "model.safetensors").exists()
    previous = Run(done.path / "previous")
    assert (previous.path / "results.json").read_bytes() == old and previous.check_files(checksums=True) is None
