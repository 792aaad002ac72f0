"""The queue's warm worker: a separate process with torch and the library imported, which
becomes the next queued `execute` run's process (issue 11, item 5). Timing targets live in
bench/bench_app.py; here: that the run is carried out by that process, exactly as a fresh one
would, and that the queue falls back to a fresh process when the worker is gone."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from rec_app.train.launch import build_configs, execute_argv, submit_runs
from rec_core.runs import RunQueue, RunStore
from rec_core.runs.worker import is_execute_command

pytestmark = pytest.mark.slow

TINY = {
    "data": {"name": "synthetic", "synthetic_users": 120, "synthetic_items": 90},
    "split": {"kind": "ratio"},
    "model": {"name": "mf", "embed_dim": 16},
    "train": {"epochs": 2, "batch_size": 512, "patience": 0, "device": "cpu"},
}


def _wait(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_the_warm_worker_becomes_the_runs_process_and_is_replaced(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs")
    queue = RunQueue(store, 1, warm=True)
    try:
        worker = queue.warm_worker()
        assert worker is not None
        _wait(worker.ready, 240, "the warm worker never finished its imports")
        [run_id] = submit_runs(store, queue, build_configs(TINY, [0]))
        run = store.get(run_id)
        assert run.raw_status()["pid"] == worker.pid  # handed over, not a new process
        assert queue.warm_worker() is None  # taken; none started while the run uses the CPU
        _wait(lambda: run.status()["state"] != "running", 240, "the run did not finish")
        assert run.status()["state"] == "done", run.status().get("error")
        assert run.results()["model"] == "mf" and len(run.history()) == 2
        log = (run.path / "log.txt").read_text()
        assert "run folder:" in log and run_id in log  # the CLI's own output, in the run's log
        queue.tick()  # nothing runs, nothing waits: a new worker for the next click
        again = queue.warm_worker()
        assert again is not None and again.pid != worker.pid
    finally:
        queue.close()


def test_without_a_worker_the_run_starts_as_a_fresh_process(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs")
    queue = RunQueue(store, 1, warm=True)
    try:
        worker = queue.warm_worker()
        assert worker is not None
        os.kill(worker.pid, signal.SIGKILL)  # the worker this test's queue started
        _wait(lambda: not worker.alive(), 30, "the worker did not end")
        [run_id] = submit_runs(store, queue, build_configs(TINY, [0]))
        run = store.get(run_id)
        assert run.raw_status()["pid"] != worker.pid
        _wait(lambda: run.status()["state"] != "running", 240, "the run did not finish")
        assert run.status()["state"] == "done", run.status().get("error")
    finally:
        queue.close()


def test_only_the_librarys_execute_command_goes_to_the_worker(tmp_path: Path) -> None:
    assert is_execute_command(execute_argv("r1", tmp_path))
    assert not is_execute_command([sys.executable, "-c", "print(1)"])
    assert not is_execute_command(["/usr/bin/python3", "-m", "rec_core", "execute", "r1"])  # another interpreter
    assert json.dumps(execute_argv("r1", tmp_path))  # a plain list of strings (status.json holds it)
