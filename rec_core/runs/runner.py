"""Start runs as detached background processes, and a queue whose state lives in the store.

The app never trains inline: it records a command in a run folder and a process started
here does the work, writing into the same folder. Because the queue is nothing but
status.json files ("queued" + "command"), any process (two browser tabs, a restarted app,
a cron job) can call `RunQueue.tick()`; a lock file in the store root makes that safe.
`QueueTicker` calls it from a daemon thread (the app's server) and logs what a tick raises.
"""
from __future__ import annotations

import logging
import os
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rec_core.errors import ConfigError, RecCoreError
from rec_core.runs.atomic import file_lock
from rec_core.runs.store import RunStore, utc_now, validate_run_id
from rec_core.runs.summary import completion_summary
from rec_core.runs.worker import WarmWorker, is_execute_command

__all__ = ["LaunchError", "QueueTicker", "RunQueue", "launch"]

_QUEUE_LOCK = ".queue.lock"
log = logging.getLogger(__name__)


class LaunchError(RecCoreError):
    """A run's command could not be started; the run has been marked failed with the reason."""

    def __init__(self, run_id: str, message: str) -> None:
        self.run_id = run_id
        super().__init__(f"run {run_id!r}: {message}")


def _check_argv(argv: Any) -> list[str]:
    """`argv` as a list of str, program first; ConfigError("argv", ...) otherwise."""
    if (isinstance(argv, (str, bytes)) or not isinstance(argv, Sequence) or not argv
            or not all(isinstance(a, str) for a in argv) or not argv[0]):
        raise ConfigError("argv", "must be a non-empty list of strings, the program first")
    return list(argv)


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
    # A merge under the status lock: if the child already wrote "done", that state stays.
    run.set_status(pid=proc.pid)
    # Reap the child when it exits; an unreaped zombie would otherwise linger in a
    # long-lived launcher (the app) for as long as the launcher runs.
    threading.Thread(target=proc.wait, name=f"rec_core-reap-{proc.pid}", daemon=True).start()
    return proc.pid


class RunQueue:
    """FIFO queue of runs over a RunStore, starting at most `max_parallel` at a time.

    Only runs with a recorded "command" (set by `submit`) are the queue's business: a
    "queued" run without one belongs to a process that created it and runs it itself.
    Every "running" run in the store takes a slot, whoever started it, since they share
    the same machine.

    With `warm=True` (the app) one `WarmWorker` waits with torch and transformers imported and
    takes the next run whose command is the library's `execute`, so it skips the seconds of
    imports. A new worker is started when the last one was taken and either a slot is free
    (the next click takes it) or runs wait in the queue (they will need it); not while every
    slot is busy and nothing waits, when its imports would only slow the running runs.
    """

    def __init__(self, store: RunStore, max_parallel: int = 1, *, warm: bool = False) -> None:
        if isinstance(max_parallel, bool) or not isinstance(max_parallel, int) or max_parallel < 1:
            raise ConfigError("max_parallel", f"must be an integer >= 1, not {max_parallel!r}")
        self.store = store
        self.max_parallel = max_parallel
        self.warm = warm
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

    def submit(self, run_id: str, argv: list[str]) -> None:
        """Queue run `run_id` to execute `argv`, and start it now if a slot is free.

        A finished run may be submitted again (its stop request is cleared); a running one
        is refused with ConfigError.
        """
        argv = _check_argv(argv)
        with file_lock(self._lock_path):
            run = self.store.get(run_id)
            if run.status()["state"] == "running":
                raise ConfigError("run_id", f"{run_id!r} is running; stop it before resubmitting")
            run.clear_stop()
            run.set_status("queued", command=argv, queued_at=utc_now(), error=None,
                           started_at=None, finished_at=None, pid=None, hostname=None,
                           pid_started=None, completion=None)
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
            if run.status()["state"] == "queued":
                completion = {"state": "stopped", "reason": "user_stop", "epochs_completed": 0, "best_epoch": 0,
                              "best_phase": None}
                run.set_status("stopped", error=None,
                               completion={**completion, "summary": completion_summary(completion)})

    def _start_due(self) -> list[str]:
        """Start due runs; the caller holds the queue lock."""
        active = 0
        due: list[tuple[str, str, Any]] = []
        for run_id in self.store.run_ids():
            try:
                st = self.store.get(run_id).status()
            except (RecCoreError, OSError) as exc:
                # Corrupt or deleted meanwhile: nothing the queue can start. Debug level: a
                # corrupt run would otherwise repeat this line on every tick.
                log.debug("queue: skipping run %s: %s", run_id, exc)
                continue
            if st["state"] == "running":
                active += 1
            elif st["state"] == "queued" and st.get("command") is not None:
                turn = st.get("queued_at") or st.get("created_at") or ""
                due.append((turn, run_id, st["command"]))
        started: list[str] = []
        for _, run_id, command in sorted(due):
            if active >= self.max_parallel:
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
            active += 1
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
