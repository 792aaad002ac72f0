"""Runs of several local processes (issue 12, "Beyond one machine"): the queue counts a run of N
processes as N slots, the command is torchrun's, bad values are refused naming `processes`, and
Stop ends every rank. Stand-in child processes, plus slow tests with real 2-process runs."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from rec_app.train.launch import check_launch_processes, execute_argv, submit_runs
from rec_core.errors import ConfigError
from rec_core.runs import RunQueue, RunStore, pid_alive
from rec_core.runs.runner import check_processes, slots_of
from rec_core.runs.worker import is_execute_command
from tests.app_store import tiny_config
from tests.test_runs_runner import child_argv, state, wait_for


@pytest.fixture()
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "runs")


@pytest.fixture()
def many_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine with at least 8 cores, so that 3-process runs are allowed on any test machine."""
    real = os.cpu_count() or 1
    monkeypatch.setattr(os, "cpu_count", lambda: max(8, real))


# -- slot accounting -------------------------------------------------------------------------------
def test_a_two_process_run_takes_both_slots_until_it_is_done(store: RunStore) -> None:
    queue = RunQueue(store, max_parallel=2)
    store.create({}, run_id="wide")
    store.create({}, run_id="next")
    queue.submit("wide", child_argv(0.8), processes=2)
    queue.submit("next", child_argv(0.0))
    assert store.get("wide").status()["processes"] == 2 and slots_of(store.get("wide").status()) == 2
    assert state(store, "wide") in ("running", "done") and state(store, "next") == "queued"
    if state(store, "wide") == "running":
        assert queue.tick() == []  # 2 + 1 slots > 2
    wait_for(lambda: bool(queue.tick()) or state(store, "next") != "queued")
    wide, nxt = store.get("wide").status(), store.get("next").status()
    assert wide["state"] == "done" and nxt["started_at"] >= wide["finished_at"]
    wait_for(lambda: state(store, "next") == "done")


def test_a_run_wider_than_the_queue_starts_alone_once_nothing_runs(store: RunStore, many_cores: None) -> None:
    queue = RunQueue(store, max_parallel=2)
    blocker = store.create({}, run_id="blocker")
    blocker.set_status("running", pid=os.getpid())  # one slot taken by someone else
    for run_id in ("wider", "small"):
        store.create({}, run_id=run_id)
    queue.submit("wider", child_argv(0.5), processes=3)
    queue.submit("small", child_argv(0.0))
    # First in line, "wider" waits for an idle machine; "small" would fit but never overtakes it.
    assert queue.tick() == [] and state(store, "wider") == "queued" and state(store, "small") == "queued"
    blocker.set_status("done")
    assert queue.tick() == ["wider"]  # 3 processes > max_parallel 2: alone, never deadlocked
    assert state(store, "small") == "queued"  # only a tick starts it
    wait_for(lambda: state(store, "wider") == "done")
    wait_for(lambda: bool(queue.tick()) or state(store, "small") != "queued")
    assert store.get("small").status()["started_at"] >= store.get("wider").status()["finished_at"]
    wait_for(lambda: state(store, "small") == "done")


def test_one_process_runs_still_fill_every_slot(store: RunStore) -> None:
    queue = RunQueue(store, max_parallel=2)
    for run_id in ("a", "b", "c"):
        store.create({}, run_id=run_id)
        queue.submit(run_id, child_argv(0.6))
    assert {state(store, "a"), state(store, "b")} <= {"running", "done"} and state(store, "c") == "queued"
    assert store.get("a").status()["processes"] == 1

    def all_done() -> bool:
        queue.tick()
        return all(state(store, r) == "done" for r in ("a", "b", "c"))

    wait_for(all_done)


def test_the_estimate_places_a_multi_process_run_on_its_slots() -> None:
    from rec_app.estimate import schedule

    # 2 slots, one busy for 30 s: a 2-process run waits for it; a 1-process one would not.
    assert schedule([30.0], [], [10.0], 2, slots=2) == (30.0, 40.0)
    assert schedule([30.0], [], [10.0], 2) == (0.0, 10.0)
    # A running 2-process run holds both slots; a queued one goes first and is never overtaken.
    assert schedule([30.0], [], [10.0], 2, running_slots=[2]) == (30.0, 40.0)
    assert schedule([], [20.0], [10.0], 3, queued_slots=[2], slots=2) == (20.0, 30.0)
    # Wider than the queue: alone, one after the other.
    assert schedule([], [], [10.0, 10.0], 2, slots=3) == (0.0, 20.0)


# -- the command and the values allowed ----------------------------------------------------------------
def test_the_command_of_several_processes_is_torchruns(tmp_path: Path) -> None:
    runs = str(tmp_path.resolve())
    one = execute_argv("r1", tmp_path)
    assert one == [sys.executable, "-m", "rec_core", "execute", "r1", "--runs-dir", runs, "--quiet"]
    assert is_execute_command(one)  # the warm worker may take it
    two = execute_argv("r1", tmp_path, 2)
    assert two == [
        sys.executable,
        "-m",
        "rec_core.torchrun",  # torchrun, ending in one line instead of its traceback
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "rec_core",
        "execute",
        "r1",
        "--runs-dir",
        runs,
        "--quiet",
    ]
    assert not is_execute_command(two)  # a fresh torchrun, never the warm worker


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, None, 10**6])
def test_bad_process_counts_are_refused_naming_the_field(bad: object, store: RunStore) -> None:
    with pytest.raises(ConfigError) as info:
        check_processes(bad)
    assert info.value.field == "processes" and f"from 1 to {os.cpu_count() or 1}" in str(info.value)
    store.create({}, run_id="r")
    with pytest.raises(ConfigError) as info:
        RunQueue(store).submit("r", child_argv(), processes=bad)  # type: ignore[arg-type]  # bad on purpose
    assert info.value.field == "processes"
    assert "command" not in store.get("r").status()  # nothing queued
    with pytest.raises(ConfigError) as info:
        submit_runs(store, RunQueue(store), [tiny_config("mf", 0)], processes=bad)  # type: ignore[arg-type]
    assert info.value.field == "processes" and store.run_ids() == ["r"]  # no run folder made


def test_on_a_cuda_machine_processes_are_bounded_by_its_gpus(monkeypatch: pytest.MonkeyPatch, many_cores: None) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert check_launch_processes(2) == 2 and check_launch_processes(1) == 1
    with pytest.raises(ConfigError, match="one GPU") as info:
        check_launch_processes(3)
    assert info.value.field == "processes"


# -- stop --------------------------------------------------------------------------------------------
# A stand-in launcher that ignores the stop request, with a child in its process group.
STUBBORN = (
    "import subprocess, sys, time; "
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
    "open(sys.argv[1], 'w').write(str(child.pid)); time.sleep(120)"
)


def test_stop_of_a_multi_process_run_ends_its_launchers_process_group(store: RunStore, tmp_path: Path) -> None:
    queue = RunQueue(store, max_parallel=2, stop_grace_s=0.0)
    store.create({}, run_id="multi")
    pid_file = tmp_path / "child.pid"
    queue.submit("multi", [sys.executable, "-c", STUBBORN, str(pid_file)], processes=2)
    st = store.get("multi").status()
    launcher = st["launcher_pid"]
    assert st["state"] == "running" and launcher == st["pid"] and os.getpgid(launcher) == launcher
    wait_for(lambda: pid_file.exists() and pid_file.read_text().strip() != "")
    child = int(pid_file.read_text())
    queue.stop("multi")  # grace 0: the group is signalled at once
    wait_for(lambda: not pid_alive(launcher) and not pid_alive(child))
    st = store.get("multi").status()
    assert st["stop_requested_at"] and st["stop_forced_at"]
    assert st["state"] == "failed"  # the stand-in wrote nothing; a real rank 0 records "stopped"
    queue.tick()  # once per Stop: nothing left to signal, nothing raised


def test_stop_of_a_one_process_run_stays_cooperative(store: RunStore, tmp_path: Path) -> None:
    queue = RunQueue(store, max_parallel=2, stop_grace_s=0.0)
    store.create({}, run_id="single")
    pid_file = tmp_path / "child.pid"
    queue.submit("single", [sys.executable, "-c", STUBBORN, str(pid_file)])
    wait_for(lambda: pid_file.exists() and pid_file.read_text().strip() != "")
    launcher, child = store.get("single").status()["pid"], int(pid_file.read_text())
    try:
        queue.stop("single")
        queue.tick()
        assert pid_alive(launcher) and pid_alive(child)  # asked, never signalled (unchanged for N=1)
        assert store.get("single").stop_requested() and not store.get("single").status().get("stop_forced_at")
    finally:
        os.killpg(launcher, signal.SIGKILL)
        wait_for(lambda: not pid_alive(launcher) and not pid_alive(child))


def test_a_multi_process_run_gets_its_grace_before_any_signal(store: RunStore, tmp_path: Path) -> None:
    queue = RunQueue(store, max_parallel=2, stop_grace_s=3600.0)
    store.create({}, run_id="multi")
    pid_file = tmp_path / "child.pid"
    queue.submit("multi", [sys.executable, "-c", STUBBORN, str(pid_file)], processes=2)
    launcher = store.get("multi").status()["launcher_pid"]
    try:
        queue.stop("multi")
        queue.tick()
        assert pid_alive(launcher) and not store.get("multi").status().get("stop_forced_at")
    finally:
        os.killpg(launcher, signal.SIGKILL)
        wait_for(lambda: not pid_alive(launcher))


# -- real runs of two processes ------------------------------------------------------------------------
def _run_processes(run_id: str) -> list[int]:
    """Pids of the processes started for run `run_id` (the queue gives each REC_CORE_RUN_ID)."""
    mark = f"REC_CORE_RUN_ID={run_id}".encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark in (entry / "environ").read_bytes() and pid_alive(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture()
def cpu_two_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunStore:
    """A store for real 2-process runs on CPU (gloo) on any machine: two cores allowed, CUDA hidden
    from the children, one thread per process (2 processes share the cores)."""
    import torch

    real = os.cpu_count() or 1
    monkeypatch.setattr(os, "cpu_count", lambda: max(2, real))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("REC_CORE_CACHE", str(tmp_path / "cache"))
    return RunStore(tmp_path / "runs")


@pytest.mark.slow
def test_a_two_process_run_through_the_queue_finishes(cpu_two_processes: RunStore) -> None:
    store = cpu_two_processes
    queue = RunQueue(store, max_parallel=2)
    [run_id] = submit_runs(store, queue, [tiny_config("mf", 0, epochs=2)], processes=2)
    st = store.get(run_id).status()
    assert st["command"][1:7] == ["-m", "rec_core.torchrun", "--standalone", "--nproc_per_node", "2", "-m"]
    wait_for(lambda: state(store, run_id) in ("done", "failed"), timeout=300)
    run = store.get(run_id)
    assert run.status()["state"] == "done", (run.status().get("error"), run.log_tail()[-3000:])
    results = run.results()
    assert results is not None and results["processes"] == 2 and len(run.history()) == 2
    assert store.run_ids() == [run_id]  # rank 1 created nothing
    wait_for(lambda: not _run_processes(run_id), timeout=60)


@pytest.mark.slow
def test_stop_ends_every_rank_of_a_two_process_run(cpu_two_processes: RunStore) -> None:
    store = cpu_two_processes
    queue = RunQueue(store, max_parallel=2, stop_grace_s=0.0)
    [run_id] = submit_runs(store, queue, [tiny_config("mf", 0, epochs=400)], processes=2)
    wait_for(lambda: len(store.get(run_id).history()) >= 1 or state(store, run_id) != "running", timeout=300)
    assert state(store, run_id) == "running", store.get(run_id).log_tail()[-3000:]
    assert len(_run_processes(run_id)) >= 3  # torchrun and its two ranks
    queue.stop(run_id)
    wait_for(lambda: state(store, run_id) != "running", timeout=120)
    run = store.get(run_id)
    assert run.status()["state"] == "stopped", (run.status().get("error"), run.log_tail()[-3000:])
    results = run.results()
    assert results is not None and results["completion"]["state"] == "stopped" and results["processes"] == 2
    wait_for(lambda: not _run_processes(run_id), timeout=60)  # no rank left behind
