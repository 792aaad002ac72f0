"""Start runs as detached background processes, and a queue whose state lives in the store.

The app never trains inline: it records a command in a run folder and a process started
here does the work, writing into the same folder. Because the queue is nothing but
status.json files ("queued" + "command"), any process (two browser tabs, a restarted app,
a cron job) can call `RunQueue.tick()`; a lock file in the store root makes that safe.
`QueueTicker` calls it from a daemon thread (the app's server) and logs what a tick raises.

A run may train in several local processes (`processes`, recorded in its status beside the
command; the command is then torchrun's, `python -m rec_core.torchrun --standalone
--nproc_per_node N ...`): it takes N of the queue's `max_parallel` slots.
"""

from __future__ import annotations

import logging
import numbers
import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rec_core.errors import ConfigError, RecCoreError
from rec_core.runs.atomic import file_lock
from rec_core.runs.environment import hostname, pid_alive, process_start_token
from rec_core.runs.store import RunStore, utc_now, validate_run_id
from rec_core.runs.summary import completion_summary, parse_time
from rec_core.runs.worker import WarmWorker, is_execute_command

__all__ = ["LaunchError", "QueueTicker", "RunQueue", "STOP_GRACE_S", "check_processes", "launch", "slots_of"]

_QUEUE_LOCK = ".queue.lock"
# Seconds a multi-process run has to honour a Stop by itself before its launcher is signalled.
STOP_GRACE_S = 60.0
log = logging.getLogger(__name__)


class LaunchError(RecCoreError):
    """A run's command could not be started; the run has been marked failed with the reason."""

    def __init__(self, run_id: str, message: str) -> None:
        self.run_id = run_id
        super().__init__(f"run {run_id!r}: {message}")


def _check_argv(argv: Any) -> list[str]:
    """`argv` as a list of str, program first; ConfigError("argv", ...) otherwise."""
    if (
        isinstance(argv, (str, bytes))
        or not isinstance(argv, Sequence)
        or not argv
        or not all(isinstance(a, str) for a in argv)
        or not argv[0]
    ):
        raise ConfigError("argv", "must be a non-empty list of strings, the program first")
    return list(argv)


def check_processes(processes: Any, limit: int | None = None) -> int:
    """`processes` as an int from 1 to `limit` (default: this machine's CPU cores, since the
    queue starts every process here); ConfigError("processes", ...) saying what is allowed."""
    cap = limit if limit is not None else (os.cpu_count() or 1)
    if isinstance(processes, bool) or not isinstance(processes, numbers.Integral) or not 1 <= int(processes) <= cap:
        raise ConfigError(
            "processes",
            f"must be a whole number from 1 to {cap} (the CPU cores of this machine; "
            f"each process trains on its own), not {processes!r}",
        )
    return int(processes)


def slots_of(status: Mapping[str, Any]) -> int:
    """Queue slots a run takes: its recorded `processes` (1 when absent or unreadable)."""
    n = status.get("processes")
    return n if isinstance(n, int) and not isinstance(n, bool) and n >= 1 else 1


def launch(
    store: RunStore,
    run_id: str,
    argv: list[str],
    *,
    log_name: str = "log.txt",
    cwd: str | Path | None = None,
    extra_env: Mapping[str, str] | None = None,
    worker: WarmWorker | None = None,
) -> int:
    """Start `argv` as a detached process for run `run_id`; return its pid.

    The process gets its own session (it survives the caller exiting and a Ctrl-C in the
    app's terminal), stdin from /dev/null, stdout and stderr appended to
    `<run>/<log_name>`, and the environment plus PYTHONUNBUFFERED=1 (so the log is live),
    REC_CORE_RUNS_ROOT and REC_CORE_RUN_ID. The run is marked "running" with the pid and
    the command. If the command cannot be started the run is marked "failed" with the
    reason and LaunchError is raised. A run already running is refused (ConfigError).

    With `worker` (a waiting `WarmWorker`, for the library's `execute` command) the run is
    handed to that process, which has imported everything already, instead of a new one.
    """
    argv = _check_argv(argv)
    validate_run_id(log_name, "log_name")
    run = store.get(run_id)
    if run.status()["state"] == "running":
        raise ConfigError("run_id", f"{run_id!r} is already running")
    # Until the child's pid is known the launcher's own pid stands in, so that a launcher
    # killed right here leaves a run that reads as failed rather than running forever.
    run.set_status("running", pid=os.getpid(), command=argv, error=None)
    env = {
        **os.environ,
        **(extra_env or {}),
        "PYTHONUNBUFFERED": "1",
        "REC_CORE_RUNS_ROOT": str(store.root.resolve()),
        "REC_CORE_RUN_ID": run_id,
    }
    if worker is not None:
        pid = worker.assign(argv, env, cwd, run.path / log_name)
        if pid is not None:
            run.set_status(pid=pid)
            return pid
    try:
        with open(run.path / log_name, "ab") as log:
            proc = subprocess.Popen(  # argv is a list, no shell
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=env,
                start_new_session=True,
                close_fds=True,  # never hand the queue lock's descriptor to the child
            )
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        message = f"could not start {argv[0]!r}: {exc}"
        run.set_status("failed", error=message, pid=None)
        raise LaunchError(run_id, message) from exc
    # A merge under the status lock: if the child already wrote "done", that state stays. The
    # launcher's pid is kept apart: under torchrun rank 0 records its own pid over `pid`, and
    # the launcher (its own process group) is what a forced stop signals.
    run.set_status(pid=proc.pid, launcher_pid=proc.pid, launcher_started=process_start_token(proc.pid))
    # Reap the child when it exits; an unreaped zombie would otherwise linger in a
    # long-lived launcher (the app) for as long as the launcher runs.
    threading.Thread(target=proc.wait, name=f"rec_core-reap-{proc.pid}", daemon=True).start()
    return proc.pid


class RunQueue:
    """FIFO queue of runs over a RunStore, starting at most `max_parallel` at a time.

    Only runs with a recorded "command" (set by `submit`) are the queue's business: a
    "queued" run without one belongs to a process that created it and runs it itself.
    Every "running" run in the store takes a slot, whoever started it, since they share
    the same machine; a run of N processes takes N. The queue is strictly FIFO: the next run
    waits until enough slots are free (a run wider than `max_parallel` starts once nothing
    runs, alone), and no later run overtakes it.

    Stop is cooperative (every rank of a multi-process run reads the request and they stop at
    the same step). A multi-process run still going `stop_grace_s` after its Stop without
    having reached its final testing (stuck loading data, say, or a rank that outlived rank 0)
    gets SIGTERM on its launcher's process group: torchrun passes it on to every rank (each in
    a session of its own) and kills the ranks still there after its shutdown timeout.

    With `warm=True` (the app) one `WarmWorker` waits with torch and transformers imported and
    takes the next run whose command is the library's `execute`, so it skips the seconds of
    imports. A new worker is started when the last one was taken and either a slot is free
    (the next click takes it) or runs wait in the queue (they will need it); not while every
    slot is busy and nothing waits, when its imports would only slow the running runs.
    """

    def __init__(
        self, store: RunStore, max_parallel: int = 1, *, warm: bool = False, stop_grace_s: float = STOP_GRACE_S
    ) -> None:
        if isinstance(max_parallel, bool) or not isinstance(max_parallel, int) or max_parallel < 1:
            raise ConfigError("max_parallel", f"must be an integer >= 1, not {max_parallel!r}")
        self.store = store
        self.max_parallel = max_parallel
        self.warm = warm
        self.stop_grace_s = stop_grace_s
        self._lock_path = store.root / _QUEUE_LOCK
        self._worker: WarmWorker | None = None
        self._worker_lock = threading.Lock()
        if warm:
            self._replenish(active=0, waiting=0)

    def warm_worker(self) -> WarmWorker | None:
        """The waiting worker, if any (alive)."""
        worker = self._worker
        return worker if worker is not None and worker.alive() else None

    def close(self) -> None:
        """Let the waiting worker end (runs already handed over go on)."""
        with self._worker_lock:
            if self._worker is not None:
                self._worker.close()
                self._worker = None

    def _take_worker(self, argv: list[str]) -> WarmWorker | None:
        if not self.warm or not is_execute_command(argv):
            return None
        with self._worker_lock:
            worker, self._worker = self._worker, None
        return worker if worker is not None and worker.alive() else None

    def _replenish(self, active: int, waiting: int) -> None:
        if not self.warm:
            return
        with self._worker_lock:
            if self._worker is not None and self._worker.alive():
                return
            if active >= self.max_parallel and not waiting:
                return  # every slot is busy and nothing waits: start one once a slot frees
            try:
                self._worker = WarmWorker(self.store.root)
            except OSError as exc:
                log.warning("queue: could not start a warm worker: %s", exc)
                self._worker = None

    def submit(self, run_id: str, argv: list[str], *, processes: int = 1) -> None:
        """Queue run `run_id` to execute `argv`, and start it now if enough slots are free.

        `processes`: how many processes `argv` starts (torchrun's `--nproc_per_node`), the
        slots the run takes; from 1 to the CPU cores (ConfigError("processes", ...)).
        A finished run may be submitted again (its stop request is cleared); a running one
        is refused with ConfigError.
        """
        argv = _check_argv(argv)
        processes = check_processes(processes)
        with file_lock(self._lock_path):
            run = self.store.get(run_id)
            if run.status()["state"] == "running":
                raise ConfigError("run_id", f"{run_id!r} is running; stop it before resubmitting")
            run.clear_stop()
            run.set_status(
                "queued",
                command=argv,
                processes=processes,
                queued_at=utc_now(),
                error=None,
                started_at=None,
                finished_at=None,
                pid=None,
                hostname=None,
                pid_started=None,
                completion=None,
                launcher_pid=None,
                launcher_started=None,
                stop_requested_at=None,
                stop_forced_at=None,
            )
            self._start_due()

    def tick(self) -> list[str]:
        """Start queued runs whose turn it is (FIFO by queued_at); return the started ids.

        Safe to call from any number of threads and processes at once.
        """
        with file_lock(self._lock_path):
            return self._start_due()

    def stop(self, run_id: str) -> None:
        """Request a cooperative stop; a run still queued is marked "stopped" at once."""
        with file_lock(self._lock_path):  # so a concurrent tick cannot start it meanwhile
            run = self.store.get(run_id)
            run.request_stop()
            st = run.status()
            if st["state"] == "queued":
                completion = {
                    "state": "stopped",
                    "reason": "user_stop",
                    "epochs_completed": 0,
                    "best_epoch": 0,
                    "best_phase": None,
                }
                run.set_status(
                    "stopped", error=None, completion={**completion, "summary": completion_summary(completion)}
                )
            elif st["state"] == "running" and not st.get("stop_requested_at"):
                st = run.set_status(stop_requested_at=utc_now())
                self._force_stop_if_due(run_id, st)

    def _force_stop_if_due(self, run_id: str, st: Mapping[str, Any]) -> None:
        """SIGTERM to the launcher's group of a multi-process run that has not ended within
        `stop_grace_s` of its Stop (see the class); once per Stop."""
        launcher, asked = st.get("launcher_pid"), parse_time(st.get("stop_requested_at"))
        if (
            slots_of(st) < 2
            or asked is None
            or st.get("stop_forced_at")
            or not isinstance(launcher, int)
            or isinstance(launcher, bool)
            or st.get("hostname") != hostname()
        ):
            return
        if st.get("state") == "running" and st.get("phase") == "testing":
            return  # it honoured the Stop and is testing the best weights: let it finish
        if (datetime.now(timezone.utc) - asked).total_seconds() < self.stop_grace_s:
            return
        if not pid_alive(launcher, st.get("launcher_started")):
            return
        try:
            os.killpg(launcher, signal.SIGTERM)
        except (ProcessLookupError, PermissionError) as exc:
            log.debug("queue: could not signal run %s's launcher %s: %s", run_id, launcher, exc)
            return
        log.warning(
            "queue: run %s (%s processes) did not end within %.0f s of its Stop; sent SIGTERM to its launcher %s",
            run_id,
            slots_of(st),
            self.stop_grace_s,
            launcher,
        )
        self.store.get(run_id).set_status(stop_forced_at=utc_now())

    def _start_due(self) -> list[str]:
        """Start due runs; the caller holds the queue lock."""
        active = 0
        due: list[tuple[str, str, Any, int]] = []
        for run_id in self.store.run_ids():
            try:
                st = self.store.get(run_id).status()
            except (RecCoreError, OSError) as exc:
                # Corrupt or deleted meanwhile: nothing the queue can start. Debug level: a
                # corrupt run would otherwise repeat this line on every tick.
                log.debug("queue: skipping run %s: %s", run_id, exc)
                continue
            if st.get("stop_requested_at"):
                self._force_stop_if_due(run_id, st)
            if st["state"] == "running":
                active += slots_of(st)
            elif st["state"] == "queued" and st.get("command") is not None:
                turn = st.get("queued_at") or st.get("created_at") or ""
                due.append((turn, run_id, st["command"], slots_of(st)))
        started: list[str] = []
        for _, run_id, command, slots in sorted(due):
            # FIFO: the first in line waits for its slots (or, wider than the queue, for an
            # idle machine); nothing behind it overtakes.
            if active and active + slots > self.max_parallel:
                break
            try:
                argv = _check_argv(command)
            except ConfigError as exc:  # a hand-edited status.json: fail it, do not retry
                log.warning("queue: run %s has a bad queued command and is marked failed: %s", run_id, exc)
                self.store.get(run_id).set_status("failed", error=f"queued command: {exc}")
                continue
            try:
                launch(self.store, run_id, argv, worker=self._take_worker(argv))
            except (RecCoreError, OSError) as exc:  # LaunchError already marked it failed; or it was just deleted
                log.warning("queue: run %s could not be started: %s", run_id, exc)
                continue
            active += slots
            started.append(run_id)
        self._replenish(active, len(due) - len(started))
        return started


class QueueTicker:
    """A daemon thread that calls `queue.tick()` every `interval` seconds, so queued runs start
    while no one is looking (the app's server holds one).

    A tick that raises (a store folder removed, a full disk) is logged with its traceback on
    this module's logger and the next tick goes on: the thread never dies silently.
    """

    def __init__(self, queue: RunQueue, interval: float = 2.0, *, start: bool = True) -> None:
        self.queue, self.interval = queue, interval
        self._stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="rec_core-queue-ticker", daemon=True)
        if start:
            self.thread.start()

    def tick_once(self) -> list[str]:
        """One tick: the started run ids, or [] after logging what went wrong."""
        try:
            self.queue.store.root.mkdir(parents=True, exist_ok=True)  # recreated if it was removed
            return self.queue.tick()
        except Exception:  # one bad tick must not end the thread; logged, not lost
            log.exception("queue tick failed in %s; trying again in %.1f s", self.queue.store.root, self.interval)
            return []

    def stop(self, timeout: float | None = None) -> None:
        """End the loop after the current tick (and wait up to `timeout` s for the thread)."""
        self._stopped.set()
        if self.thread.is_alive():
            self.thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopped.is_set():
            self.tick_once()
            self._stopped.wait(self.interval)
