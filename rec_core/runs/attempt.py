"""Carrying out a run folder again (`execute`): who may start an attempt, and what happens to the
outputs of the attempt before it.

- A run that is running (its process alive, and not this process or one that started it: the
  app's queue, torchrun) is refused: a second writer would interleave its epochs with the
  first's in history.jsonl and overwrite its files.
- A finished run with results (done / stopped) is refused unless forced: executing it again
  replaces those results.
- When an attempt starts, the outputs of the one before it never mix with its own: a complete
  set (results.json and every file it records) moves to `previous/`, kept there until the new
  attempt's results are complete with a model (then `previous/` is removed); the partial outputs of an
  attempt that did not finish (a killed run's history.jsonl) are removed, so history.jsonl
  holds this attempt's epochs alone.

The set moves without a moment where it exists nowhere: its files are hard-linked into a hidden
`.tmp-previous-*` folder (swept if a kill leaves it), that folder is renamed to `previous/`,
and only then are the originals removed.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from typing import Any

import psutil

from rec_core.errors import ConfigError, RecCoreError
from rec_core.runs.environment import hostname
from rec_core.runs.run import Run

__all__ = ["OUTPUTS", "PREVIOUS", "begin_attempt", "check_can_execute", "end_attempt", "previous_note"]

PREVIOUS = "previous"
# What an attempt writes besides status.json (config.json is the run's, never rewritten).
OUTPUTS = ("history.jsonl", "results.json", "model.safetensors", "tables", "artifacts")


def _ancestors(pid: int) -> set[int]:
    """`pid` and the processes that started it, up to init (psutil; pid and ppid when the
    parents cannot be read)."""
    seen = {pid}
    if pid == os.getpid():
        seen.add(os.getppid())
    try:
        seen.update(parent.pid for parent in psutil.Process(pid).parents())
    except psutil.Error:
        pass
    return seen


def check_can_execute(run: Run, *, force: bool = False) -> None:
    """ConfigError("run", ...) unless an attempt at `run` may start in this process now."""
    st = run.status()  # CorruptRunFile (a RecCoreError) for an unreadable status
    state, pid = st.get("state"), st.get("pid")
    if state == "running":
        ours = isinstance(pid, int) and st.get("hostname") == hostname() and pid in _ancestors(os.getpid())
        if not ours:
            where = f"process {pid} on {st.get('hostname')}" if pid is not None else "another process"
            raise ConfigError(
                "run",
                f"run {run.run_id} is running ({where}); a second process would write into the same "
                "folder: stop it first (or wait for it to end)",
            )
    if state in ("done", "stopped") and not force:
        try:
            has_results = run.results() is not None
        except (RecCoreError, OSError):
            has_results = True  # unreadable: still not ours to replace unasked
        if has_results:
            raise ConfigError(
                "run",
                f"run {run.run_id} is {state} and has results; executing it again replaces them. Give "
                f"--force to do so (the old results stay in {run.run_id}/{PREVIOUS}/ until the new ones "
                "are complete)",
            )


def _complete(run: Run) -> bool:
    """Whether the run folder holds a complete set of outputs: results.json and every file it records."""
    try:
        results = run.results()
        return isinstance(results, dict) and run.check_files(results) is None
    except (RecCoreError, OSError):
        return False


def _link_tree(src: Path, dst: Path) -> None:
    """Hard-link the files of `src` (a file or a folder) at `dst`; copies where links fail."""
    if src.is_dir():
        dst.mkdir()
        for child in src.iterdir():
            _link_tree(child, dst / child.name)
        return
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def begin_attempt(run: Run) -> None:
    """Set the earlier attempt's outputs aside before this attempt writes its own (module docstring)."""
    present = [run.path / name for name in OUTPUTS if (run.path / name).exists()]
    if not present:
        return
    if _complete(run):
        staging = run.path / f".tmp-{PREVIOUS}-{secrets.token_hex(4)}"
        staging.mkdir()
        for path in present:
            _link_tree(path, staging / path.name)
        try:
            shutil.copy2(run.path / "status.json", staging / "status.json")  # how that attempt ended
        except OSError:
            pass
        previous = run.path / PREVIOUS
        if previous.exists():  # an older set: this one replaces it
            trash = run.path / f".trash-{PREVIOUS}-{secrets.token_hex(4)}"
            os.rename(previous, trash)
            shutil.rmtree(trash, ignore_errors=True)
        os.rename(staging, previous)
    for path in present:  # moved to previous/, or the partial outputs of an attempt that died
        _remove(path)


def end_attempt(run: Run) -> None:
    """This attempt's results are complete: the previous attempt's set is no longer needed,
    unless this attempt saved no model (stopped before its first epoch): then it stays."""
    previous = run.path / PREVIOUS
    if previous.is_dir() and _complete(run) and (run.path / "model.safetensors").is_file():
        trash = run.path / f".trash-{PREVIOUS}-{secrets.token_hex(4)}"
        try:
            os.rename(previous, trash)
        except OSError:
            return
        shutil.rmtree(trash, ignore_errors=True)


def previous_note(run: Any) -> str:
    """The note ("; ...") naming an earlier attempt's kept results, for the error of one that failed."""
    path = getattr(run, "path", None)
    if isinstance(path, Path) and (path / PREVIOUS / "results.json").is_file():
        return f"; the previous attempt's complete results are kept in {PREVIOUS}/"
    return ""
