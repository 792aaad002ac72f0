"""Background launch and the store-backed queue, with tiny Python child processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from rec_core.errors import ConfigError
from rec_core.runs import LaunchError, QueueTicker, RunQueue, RunStore, launch, runner, utc_now

# A stand-in for `python -m rec_core train ...`: sleeps, prints, marks its run done.
CHILD = (
    "import os, sys, time; "
    "from rec_core.runs import RunStore; time.sleep(float(sys.argv[1])); "
    "print('child unbuffered=' + os.environ['PYTHONUNBUFFERED']); "
    "store = RunStore(os.environ['REC_CORE_RUNS_ROOT']); "
    "store.get(os.environ['REC_CORE_RUN_ID']).set_status('done')"
)


def child_argv(sleep_s: float = 0.0) -> list[str]:
    return [sys.executable, "-c", CHILD, str(sleep_s)]


def wait_for(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def state(store: RunStore, run_id: str) -> str:
    return store.get(run_id).status()["state"]


@pytest.fixture()
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "runs")


def test_launch_runs_detached_and_finishes(store: RunStore) -> None:
    store.create({}, run_id="r1")
    pid = launch(store, "r1", child_argv(0.3))
    st = store.get("r1").status()
    assert st["pid"] == pid and st["command"] == child_argv(0.3)
    assert st["state"] in ("running", "done")
    assert os.getsid(pid) == pid  # its own session: survives the app and its Ctrl-C
    wait_for(lambda: state(store, "r1") == "done")
    assert "child unbuffered=1" in store.get("r1").log_tail()
    with pytest.raises(ConfigError):
        launch(store, "r1", [])


def test_launched_run_outlives_its_launcher(store: RunStore) -> None:
    store.create({}, run_id="r1")
    launcher = (
        "import sys; from rec_core.runs import RunStore, launch; launch(RunStore(sys.argv[1]), 'r1', sys.argv[2:])"
    )
    subprocess.run([sys.executable, "-c", launcher, str(store.root), *child_argv(0.5)], check=True, timeout=30)
    # The launcher has exited; the child is still running (or already done), never failed.
    assert state(store, "r1") in ("running", "done")
    wait_for(lambda: state(store, "r1") == "done")


def test_launch_failure_marks_run_failed(store: RunStore) -> None:
    store.create({}, run_id="r1")
    with pytest.raises(LaunchError, match="could not start"):
        launch(store, "r1", ["/nonexistent/program", "--x"])
    st = store.get("r1").status()
    assert st["state"] == "failed" and "/nonexistent/program" in st["error"]
    assert st["finished_at"]


def test_child_that_crashes_reads_as_failed(store: RunStore) -> None:
    store.create({}, run_id="r1")
    launch(store, "r1", [sys.executable, "-c", "import os; os._exit(9)"])
    wait_for(lambda: state(store, "r1") == "failed")
    assert "died without finishing" in store.get("r1").status()["error"]


def test_queue_starts_second_run_after_first_finished(store: RunStore) -> None:
    queue = RunQueue(store, max_parallel=1)
    store.create({}, run_id="a")
    store.create({}, run_id="b")
    queue.submit("a", child_argv(0.6))
    queue.submit("b", child_argv(0.0))
    assert state(store, "a") in ("running", "done")
    assert state(store, "b") == "queued"
    wait_for(lambda: bool(queue.tick()) or state(store, "b") != "queued")
    a, b = store.get("a").status(), store.get("b").status()
    assert a["state"] == "done" and b["started_at"] >= a["finished_at"]
    wait_for(lambda: state(store, "b") == "done")
    assert queue.tick() == []


def test_queue_is_fifo_and_fails_bad_commands(store: RunStore) -> None:
    queue = RunQueue(store, max_parallel=1)
    blocker = store.create({}, run_id="blocker")
    blocker.set_status("running", pid=os.getpid())  # holds the only slot
    for run_id in ["late", "early", "broken"]:
        store.create({}, run_id=run_id)
    queue.submit("broken", ["/nonexistent/program"])
    queue.submit("early", child_argv(0.0))
    queue.submit("late", child_argv(0.0))
    assert queue.tick() == []
    blocker.set_status("done")
    # "broken" was first in line; it failed to start, so "early" took the slot.
    assert queue.tick() == ["early"]
    assert state(store, "broken") == "failed" and state(store, "late") == "queued"
    assert "could not start" in store.get("broken").status()["error"]
    wait_for(lambda: state(store, "early") == "done")
    assert queue.tick() == ["late"]
    wait_for(lambda: state(store, "late") == "done")


def test_concurrent_ticks_start_each_run_once(store: RunStore, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(3):
        store.create({}, run_id=f"r{i}").set_status("queued", command=child_argv(0.0), queued_at=utc_now())
    calls: list[str] = []
    real_launch = runner.launch

    def slow_launch(s: RunStore, run_id: str, argv: list[str], **kw: object) -> int:
        calls.append(run_id)
        time.sleep(0.2)  # widens the window in which an unlocked tick would double-start
        return real_launch(s, run_id, argv, **kw)  # type: ignore[arg-type]  # **kw passed through as received

    monkeypatch.setattr(runner, "launch", slow_launch)
    barrier = threading.Barrier(2)
    started: list[list[str]] = []

    def tick() -> None:
        barrier.wait()
        started.append(RunQueue(store, max_parallel=3).tick())

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(calls) == ["r0", "r1", "r2"]
    assert sorted(started[0] + started[1]) == ["r0", "r1", "r2"]
    for i in range(3):
        wait_for(lambda i=i: state(store, f"r{i}") == "done")


def test_stop_of_queued_and_running_runs(store: RunStore) -> None:
    queue = RunQueue(store, max_parallel=1)
    blocker = store.create({}, run_id="blocker")
    blocker.set_status("running", pid=os.getpid())
    store.create({}, run_id="waiting")
    queue.submit("waiting", child_argv(0.0))
    queue.stop("waiting")
    st = store.get("waiting").status()
    assert st["state"] == "stopped" and st["finished_at"]
    assert st["completion"]["epochs_completed"] == 0 and "no epoch completed" in st["completion"]["summary"]
    assert store.get("waiting").stop_requested()
    queue.stop("blocker")  # running: only asked, the process decides when
    assert state(store, "blocker") == "running" and blocker.stop_requested()
    blocker.set_status("stopped")
    assert queue.tick() == []  # a stopped run is never started


def test_submit_validation(store: RunStore) -> None:
    with pytest.raises(ConfigError) as info:
        RunQueue(store, max_parallel=0)
    assert info.value.field == "max_parallel"
    queue = RunQueue(store)
    running = store.create({}, run_id="busy")
    running.set_status("running", pid=os.getpid())
    with pytest.raises(ConfigError, match="running"):
        queue.submit("busy", child_argv())
    with pytest.raises(ConfigError) as info:
        queue.submit("busy", "python -c pass")  # type: ignore[arg-type]  # a string, not an argv list, on purpose
    assert info.value.field == "argv"


def test_queue_ticker_logs_what_a_tick_raises_and_keeps_ticking(
    store: RunStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    queue = RunQueue(store)
    calls: list[int] = []

    def failing_tick() -> list[str]:
        calls.append(1)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(queue, "tick", failing_tick)
    ticker = QueueTicker(queue, interval=0.01)
    try:
        with caplog.at_level("ERROR", logger="rec_core.runs.runner"):
            wait_for(lambda: len(calls) >= 2)  # the thread survived the first failure
    finally:
        ticker.stop(timeout=5)
    assert not ticker.thread.is_alive()
    failures = [r for r in caplog.records if r.name == "rec_core.runs.runner" and r.levelname == "ERROR"]
    assert failures and "queue tick failed" in failures[0].getMessage()
    assert failures[0].exc_info is not None and "No space left" in str(failures[0].exc_info[1])


def test_queue_logs_a_run_it_could_not_start(store: RunStore, caplog: pytest.LogCaptureFixture) -> None:
    queue = RunQueue(store)
    store.create({}, run_id="broken")
    with caplog.at_level("WARNING", logger="rec_core.runs.runner"):
        queue.submit("broken", ["/nonexistent/program"])
    assert state(store, "broken") == "failed"
    assert any("broken could not be started" in r.getMessage() for r in caplog.records)
