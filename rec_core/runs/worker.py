"""A warm worker: a separate process that has already imported torch, transformers and the
library, waiting for one queued run to carry out.

Importing torch and transformers takes most of a short run's start (seconds on a small CPU).
`RunQueue(..., warm=True)` keeps one such process ready (`WarmWorker`) and hands it the next
run whose command is this library's `execute`: the worker then becomes that run's process,
exactly as if `python -m rec_core execute RUN ...` had been started (same command line, the
launcher's environment and working folder, output appended to the run's log, its own
session), so stopping, liveness and the run's records are unchanged; the app never trains.
One worker carries out one run and exits; the queue starts the next worker when nothing is
left waiting for the CPU (see `RunQueue`).

    python -c "...worker import main..." --ready-file PATH   (started by WarmWorker)

The job arrives as one JSON line on stdin: {"argv", "env", "cwd", "log"}. End of input
before a job (the app went away) ends the worker.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

__all__ = ["WarmWorker", "is_execute_command", "main", "PRELOAD"]

# What `python -m rec_core execute` imports before its first epoch.
PRELOAD = (
    "rec_core.cli",
    "rec_core.experiment",
    "rec_core.text",
    "rec_core.progress",
    "rec_core.models.registry",
    "tqdm",
)


def is_execute_command(argv: list[str]) -> bool:
    """Whether `argv` is this interpreter running the library's `execute` command."""
    return len(argv) >= 4 and argv[0] == sys.executable and argv[1:4] == ["-m", "rec_core", "execute"]


class WarmWorker:
    """The launcher's handle on one waiting worker process."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.ready_file = folder / f".warm-worker-{uuid.uuid4().hex[:12]}.ready"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(folder / ".warm-worker.log", "ab") as log:
            # `-c` rather than `-m rec_core.runs.worker`: the package imports this module
            # already, and running it again as __main__ would load it twice.
            self.proc = subprocess.Popen(  # our own interpreter and module; a list, no shell
                [
                    sys.executable,
                    "-c",
                    "import sys; from rec_core.runs.worker import main; sys.exit(main())",
                    "--ready-file",
                    str(self.ready_file),
                ],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                close_fds=True,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def ready(self) -> bool:
        """Imports done: a run handed over now starts at once."""
        return self.alive() and self.ready_file.exists()

    def assign(self, argv: list[str], env: dict[str, str], cwd: str | Path | None, log: Path) -> int | None:
        """Hand the worker its run; its pid, or None when it is gone (start a fresh process)."""
        if not self.alive() or self.proc.stdin is None:
            return None
        job = {"argv": argv, "env": env, "cwd": str(cwd) if cwd is not None else os.getcwd(), "log": str(log)}
        try:
            self.proc.stdin.write((json.dumps(job) + "\n").encode())
            self.proc.stdin.close()
        except (OSError, ValueError):  # it died meanwhile
            return None
        # Reaped when it exits, so a long-lived launcher (the app) leaves no zombie behind.
        threading.Thread(target=self.proc.wait, name=f"rec_core-reap-{self.proc.pid}", daemon=True).start()
        return self.proc.pid

    def close(self) -> None:
        """Let a worker that has no run end (its input closes)."""
        try:
            if self.proc.stdin is not None and not self.proc.stdin.closed:
                self.proc.stdin.close()
        except OSError:
            pass
        self.ready_file.unlink(missing_ok=True)


def _warm_up() -> None:
    """Import what a run needs and run the first-use code paths once (autograd, Adam, the
    bundled backbone's model class), so the run does not pay for them."""
    for module in PRELOAD:
        importlib.import_module(module)
    import torch

    emb = torch.nn.Embedding(8, 4)
    opt = torch.optim.Adam(emb.parameters(), lr=0.01)
    emb(torch.arange(4)).sum().backward()
    opt.step()
    try:
        from rec_core.text import load_backbone

        load_backbone("minilm")  # imports its model class; the weights stay in the page cache
    except Exception:  # noqa: BLE001 - a machine without the bundled backbone still runs others
        pass


def _become_run(job: dict[str, Any]) -> int:
    """Turn this process into the run's `execute` process; its exit code."""
    os.chdir(job["cwd"])
    os.environ.clear()
    os.environ.update(job["env"])
    log_fd = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(null_fd, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    os.close(null_fd)
    argv = list(job["argv"])
    code = _run_module_command(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def _run_module_command(argv: list[str]) -> int:
    """Run `argv` (`python -m MODULE ARGS...`) in this process, as that command would: the
    module runs as `__main__` with `sys.argv` [its file, ARGS...]; its exit code. The run
    store names the command it executes and never imports the command line itself."""
    import runpy

    sys.argv = [argv[0], *argv[3:]]
    try:
        runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)  # as the interpreter reports sys.exit("message")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rec_core.runs.worker")
    parser.add_argument("--ready-file", required=True)
    args = parser.parse_args(argv)
    ready = Path(args.ready_file)
    _warm_up()
    ready.write_text(str(os.getpid()))
    line = sys.stdin.readline()
    ready.unlink(missing_ok=True)
    if not line.strip():
        return 0  # no run came: the launcher went away
    return _become_run(json.loads(line))


if __name__ == "__main__":
    sys.exit(main())
