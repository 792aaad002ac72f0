"""SIGTERM / SIGINT in the middle of training take the app's Stop path; a second one aborts.

Real processes (`python -m rec_core train`) and real signals: the run must end `stopped`
with its best epoch restored, tested and saved (results, per-user table, model), the CLI
must say so without a traceback, and the model must reload.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from rec_core.experiment import load_run_model
from rec_core.runs import RunStore
from tests.faults.util import REPO, SYN, env, wait_for

# Many epochs, no early stop: the run is still training when the signal comes.
LONG = ["--model", "mf", "--embed-dim", "16", "--epochs", "400", "--patience", "0", "--batch-size", "64"]


def _start(tmp_path: Path, run_id: str) -> subprocess.Popen[str]:
    argv = [
        sys.executable,
        "-m",
        "rec_core",
        "train",
        *SYN,
        *LONG,
        "--runs-dir",
        str(tmp_path / "runs"),
        "--run-id",
        run_id,
        "--quiet",
    ]
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(tmp_path), cwd=REPO
    )


def _epochs_logged(tmp_path: Path, run_id: str) -> int:
    history = tmp_path / "runs" / run_id / "history.jsonl"
    return history.read_text(encoding="utf-8").count("\n") if history.is_file() else 0


@pytest.mark.slow  # > 10 s on a 2-core machine: CI runs it, a plain local run leaves it out
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_mid_training_stops_like_the_app_and_keeps_the_model(tmp_path: Path, sig: signal.Signals) -> None:
    proc = _start(tmp_path, "sig")
    try:
        wait_for(lambda: _epochs_logged(tmp_path, "sig") >= 2 or proc.poll() is not None)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Traceback" not in err, err
    assert proc.returncode == (143 if sig == signal.SIGTERM else 130), err
    assert f"{sig.name} received" in err and "run folder" in out
    run = RunStore(tmp_path / "runs").get("sig")
    st = run.status()
    assert st["state"] == "stopped" and st["stop_signal"] == sig.name and not st.get("error")
    completion = st["completion"]
    assert completion["reason"] == "signal" and completion["signal"] == sig.name
    assert 2 <= completion["epochs_completed"] < 400 and 1 <= completion["best_epoch"] <= completion["epochs_completed"]
    assert f"stopped by {sig.name} after epoch" in completion["summary"]
    results = run.results()
    assert results is not None and results["test"]["primary"]["metrics"]["ndcg@10"] >= 0
    assert set(results["files"]) >= {"model.safetensors", "tables/per_user_test.parquet"}
    assert run.check_files(checksums=True) is None
    model, _config = load_run_model(run)  # the best epoch's model was kept and reloads
    assert model is not None
    listed = {s.run_id: s for s in RunStore(tmp_path / "runs").list()}
    assert listed["sig"].state == "stopped" and listed["sig"].metrics


# The same command, with testing slowed down so that the second signal surely comes while the
# run is finishing after the first (standard signals sent back to back may merge into one).
SLOW_TEST = (
    "import sys, time; import rec_core.pipeline as e; "
    "real = e.evaluate_all; e.evaluate_all = lambda *a, **k: (time.sleep(3), real(*a, **k))[1]; "
    "from rec_core.cli import main; sys.exit(main(sys.argv[1:]))"
)


@pytest.mark.slow  # > 10 s on a 2-core machine: CI runs it, a plain local run leaves it out
def test_second_signal_aborts_at_once_and_says_so(tmp_path: Path) -> None:
    argv = [
        sys.executable,
        "-c",
        SLOW_TEST,
        "train",
        *SYN,
        *LONG,
        "--runs-dir",
        str(tmp_path / "runs"),
        "--run-id",
        "twice",
        "--quiet",
    ]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(tmp_path), cwd=REPO
    )
    try:
        wait_for(lambda: _epochs_logged(tmp_path, "twice") >= 1 or proc.poll() is not None)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGTERM)
        assert proc.stderr is not None
        first = proc.stderr.readline()  # the run says it is stopping cooperatively
        assert "SIGTERM received" in first, first
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Traceback" not in err, err
    assert proc.returncode == 143
    assert "aborted by a second SIGTERM" in err
    run = RunStore(tmp_path / "runs").get("twice")
    st = run.status()
    assert st["state"] == "stopped" and st["stop_signal"] == "SIGTERM"
    assert "aborted by a second SIGTERM" in st["error"] and "nothing saved" in st["error"]
    assert st["completion"]["reason"] == "interrupted" and st["completion"]["epochs_completed"] >= 1
    assert run.results() is None  # aborted: no results that could pass for a finished run
    listed = {s.run_id: s for s in RunStore(tmp_path / "runs").list()}
    assert listed["twice"].state == "stopped" and not listed["twice"].metrics


def test_signal_before_training_aborts_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Nothing to save yet (loading data): the run stops at once, recorded as interrupted."""
    import os

    import rec_core.experiment as experiment
    import rec_core.pipeline as pipeline
    from rec_core.cli import main

    real = pipeline.make_split

    def split_then_signal(*args: object, **kw: object) -> object:
        os.kill(os.getpid(), signal.SIGTERM)  # handled by the run's guard, in this thread
        return real(*args, **kw)

    monkeypatch.setattr(pipeline, "make_split", split_then_signal)
    runs = tmp_path / "runs"
    parser_args = experiment.RunConfig.from_dict(
        {"data": {"name": "synthetic", "synthetic_users": 120, "synthetic_items": 90}, "train": {"epochs": 2}}
    )
    run = experiment.start_run(parser_args, RunStore(runs), "early")
    assert main(["execute", "early", "--runs-dir", str(runs), "--quiet"]) == 143
    err = capsys.readouterr().err
    assert "Traceback" not in err and "interrupted by SIGTERM while loading data" in err
    st = run.status()
    assert st["state"] == "stopped" and st["completion"]["reason"] == "interrupted"
    assert "before training began" in st["error"] and run.results() is None
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the run's handlers are gone again


def _execute_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str, after: Any, run_id: str, epochs: int = 50
) -> tuple[int, Any]:
    """`execute RUN` in this process with `Run.<method>` wrapped: `after(call_number)` runs after
    each real call (it sends the signals). Returns (exit code, the run)."""
    import rec_core.experiment as experiment
    from rec_core.cli import main
    from rec_core.runs.run import Run

    real = getattr(Run, method)
    calls = {"n": 0}

    def wrapped(self: Run, *args: Any, **kw: Any) -> Any:
        out = real(self, *args, **kw)
        calls["n"] += 1
        after(calls["n"])
        return out

    monkeypatch.setattr(Run, method, wrapped)
    config = experiment.RunConfig.from_dict(
        {
            "data": {"name": "synthetic", "synthetic_users": 120, "synthetic_items": 90},
            "model": {"name": "mf", "embed_dim": 8},
            "train": {"epochs": epochs, "patience": 0, "batch_size": 256},
        }
    )
    run = experiment.start_run(config, RunStore(tmp_path / "runs"), run_id)
    code = main(["execute", run_id, "--runs-dir", str(tmp_path / "runs"), "--quiet"])
    return code, run


def test_sighup_stops_like_sigterm_and_keeps_the_best_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    # Before: SIGHUP (a closed ssh session) killed the process with the best model unsaved.
    def hang_up(n: int) -> None:
        if n == 2:  # after the second epoch's history record
            os.kill(os.getpid(), signal.SIGHUP)

    code, run = _execute_with(tmp_path, monkeypatch, "append_history", hang_up, "hup")
    err = capsys.readouterr().err
    assert code == 128 + signal.SIGHUP.value, err
    assert "SIGHUP received" in err and "the best epoch (" in err and "Traceback" not in err
    st = run.status()
    assert st["state"] == "stopped" and st["stop_signal"] == "SIGHUP"
    assert st["completion"]["reason"] == "signal" and st["completion"]["best_epoch"] >= 1
    assert run.check_files(checksums=True) is None and (run.path / "model.safetensors").is_file()
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL


def test_second_signal_after_the_files_are_written_says_what_was_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    # Before: "nothing saved", though results, tables and model were on disk.
    def twice(_n: int) -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # while finishing: let the run finish writing
        time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)  # the second one aborts at once

    code, run = _execute_with(tmp_path, monkeypatch, "write_results", twice, "late", epochs=2)
    err = capsys.readouterr().err
    assert code == 143 and "Traceback" not in err, err
    st = run.status()
    assert "aborted by a second SIGTERM" in st["error"] and "nothing saved" not in st["error"]
    for name in ("results.json", "model.safetensors", "tables/per_user_test.parquet"):
        assert name in st["error"], st["error"]
    assert "saved before it" in err


@pytest.mark.parametrize(
    ("live", "words"),
    [
        ({"epoch": 3, "best_epoch": 2}, "the best epoch (2) is restored"),
        ({"epoch": 3, "best_epoch": 0}, "no epoch validated yet"),
        ({}, "no epoch has finished, so no model is saved"),
    ],
)
def test_the_first_signal_says_what_the_stop_will_keep(live: dict[str, int], words: str) -> None:
    # Before: "the best epoch is restored" even when no epoch had been selected.
    from rec_core.run_signals import SignalGuard

    assert words in SignalGuard(live)._stopping()
