"""RunStore: a folder of run folders (`rec_core.runs.run.Run`: their files, the order of writes
and the state rule), safe to use from several processes at once: creating a run (atomic: a
whole folder or none), listing, deleting, and sweeping the leftovers of killed writers.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rec_core.errors import ConfigError, RecCoreError
from rec_core.runs.atomic import write_json_atomic
from rec_core.runs.environment import hostname, process_start_token
from rec_core.runs.names import RESERVED_NAMES, is_safe_name, new_run_id, utc_now, validate_run_id
from rec_core.runs.record import SCHEMA_VERSION
from rec_core.runs.run import CONFIG_FILE, FINISHED_STATES, RUN_STATES, STATUS_FILE, Run
from rec_core.runs.summary import PRIMARY_METRICS, RunSummary, parse_time, read_summary

__all__ = [
    "FINISHED_STATES",
    "PRIMARY_METRICS",
    "RUN_STATES",
    "Run",
    "RunNotFound",
    "RunStore",
    "RunSummary",
    "new_run_id",
    "utc_now",
    "validate_run_id",
]

# Temporary files and folders older than this are leftovers of a killed writer (the longest
# write, a checkpoint of a few GB, takes well under a minute).
STALE_TMP_S = 600.0
_SWEPT: set[str] = set()  # store roots swept by this process (once per process)


def _stale(path: Path, now: float, max_age_s: float) -> bool:
    try:
        return now - path.lstat().st_mtime > max_age_s
    except FileNotFoundError:
        return False


def sweep_stale_tmp(folder: str | Path, max_age_s: float = STALE_TMP_S, *, recursive: bool = False) -> int:
    """Remove `.*.tmp` files (and `.tmp-*` / `.trash-*` folders) older than `max_age_s`
    under `folder`: leftovers of writers that were killed. Returns how many were removed."""
    removed, now = 0, time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for e in entries:
        path = Path(e.path)
        try:
            is_dir = e.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if is_dir and (e.name.startswith(".tmp-") or e.name.startswith(".trash-")):
            if _stale(path, now, max_age_s):
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
        elif is_dir and recursive and not e.name.startswith("."):
            removed += sweep_stale_tmp(path, max_age_s, recursive=True)
        elif not is_dir and e.name.startswith(".") and e.name.endswith(".tmp") and _stale(path, now, max_age_s):
            try:
                path.unlink()
                removed += 1
            except OSError:
                pass
    return removed


def check_store_root(root: str | Path) -> Path:
    """`root` if a run store can be made there (it exists as a writable folder, or can be
    created); else ConfigError("runs_dir", ...) saying what is wrong. Creates nothing."""
    path = Path(root)
    probe = path
    while not probe.exists():
        if probe.is_symlink():  # a dangling link
            raise ConfigError("runs_dir", f"{probe} is a broken link; give a folder")
        parent = probe.parent
        if parent == probe:
            break
        probe = parent
    if not probe.is_dir():
        what = "is a file" if probe == path else f"is under {probe}, which is a file"
        raise ConfigError("runs_dir", f"{path} {what}; give a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        where = "" if probe == path else f" (in {probe})"
        raise ConfigError("runs_dir", f"{path} is not writable{where}; give a folder you can write to")
    return path


class RunNotFound(RecCoreError, LookupError):
    """No run folder with this id exists in the store."""

    def __init__(self, run_id: str, root: Path) -> None:
        self.run_id = run_id
        super().__init__(f"run {run_id!r} not found in {root}")


class RunStore:
    """A folder of runs. Safe to use from several processes at once."""

    def __init__(self, root: str | Path, *, create: bool = True) -> None:
        """Open the store at `root`, creating the folder unless `create` is False (read-only
        commands: then a missing folder is a ConfigError("runs_dir", ...)). A path that is a
        file, lies under a file or cannot be created is a ConfigError("runs_dir", ...).
        Stale temporary files of killed writers are swept once per process."""
        self.root = Path(root)
        if not create:
            if not self.root.is_dir():
                what = "is not a folder" if self.root.exists() else "does not exist"
                raise ConfigError("runs_dir", f"{self.root} {what}")
        elif not self.root.is_dir():
            check_store_root(self.root)
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError("runs_dir", f"cannot create {self.root}: {exc.strerror or exc}") from exc
        key = str(self.root.resolve())
        if key not in _SWEPT:
            _SWEPT.add(key)
            self.sweep()

    def sweep(self, max_age_s: float = STALE_TMP_S) -> int:
        """Remove stale temporary files and folders (see `sweep_stale_tmp`) in the store and
        its run folders; returns how many. Never raises."""
        try:
            return sweep_stale_tmp(self.root, max_age_s, recursive=True)
        except OSError:
            return 0

    def __repr__(self) -> str:
        return f"RunStore({str(self.root)!r})"

    def create(
        self, config: dict[str, Any], run_id: str | None = None, prefix: str = "run", *, owner_pid: int | None = None
    ) -> Run:
        """Create a run folder holding config.json and a "queued" status.json; return it.

        The folder is built under a hidden temporary name and renamed into place, so a
        reader sees either nothing or the complete folder. `run_id` defaults to
        `new_run_id(prefix)`; an existing id raises ConfigError("run_id", ...). `owner_pid`:
        the process that will start the run, recorded so that a run whose creator dies before
        starting it reads as failed, not queued forever (`Run.status`).
        """
        if not isinstance(config, dict):
            raise ConfigError("config", f"must be a dict, not {type(config).__name__}")
        if run_id is None:
            run_id = new_run_id(prefix)
            while (self.root / run_id).exists():  # same second and same 4 hex digits
                run_id = new_run_id(prefix)
        final = self.root / validate_run_id(run_id)
        if final.exists():
            raise ConfigError("run_id", f"{run_id!r} already exists")
        tmp = self.root / f".tmp-{run_id}-{secrets.token_hex(4)}"
        try:
            tmp.mkdir()
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise ConfigError(
                    "runs_dir",
                    f"cannot create a run folder in {self.root}: {exc.strerror}; give a folder you can write to",
                ) from exc
            raise
        try:
            write_json_atomic(tmp / CONFIG_FILE, config)
            now = utc_now()
            write_json_atomic(
                tmp / STATUS_FILE,
                {
                    "schema_version": SCHEMA_VERSION,
                    "state": "queued",
                    "error": None,
                    "created_at": now,
                    "started_at": None,
                    "finished_at": None,
                    "pid": owner_pid,
                    "hostname": hostname() if owner_pid is not None else None,
                    "pid_started": process_start_token(owner_pid) if owner_pid is not None else None,
                    "phase": None,
                    "progress": {},
                    "updated_at": now,
                },
            )
            try:
                os.rename(tmp, final)
            except OSError as exc:  # another process created the same id meanwhile
                if final.exists():
                    raise ConfigError("run_id", f"{run_id!r} already exists") from exc
                raise
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return Run(final)

    def get(self, run_id: str) -> Run:
        """The run with this id; RunNotFound if there is none."""
        path = self.root / validate_run_id(run_id)
        if not path.is_dir():
            raise RunNotFound(run_id, self.root)
        return Run(path)

    def run_ids(self) -> list[str]:
        """Ids of all run folders, unordered; temporary and trash folders are skipped."""
        with os.scandir(self.root) as entries:
            # Hidden names (.tmp-*, .trash-*, locks) are never safe names, so never run ids.
            return [e.name for e in entries if is_safe_name(e.name) and e.name not in RESERVED_NAMES and e.is_dir()]

    def list(self) -> list[RunSummary]:
        """Summaries of all runs (`read_summary`), newest first; never raises for one bad run.

        A run whose files are missing or corrupt appears with state "corrupt" and the error
        text (which names the file); a run deleted while being read is left out. Runs without
        a readable creation time sort by their folder's modification time.
        """
        rows: list[tuple[datetime, RunSummary]] = []
        for run_id in self.run_ids():
            run = Run(self.root / run_id)
            summary = read_summary(run)
            if summary is None:
                continue  # deleted between listing and reading
            created = parse_time(summary.created_at)
            if created is None:
                try:
                    created = datetime.fromtimestamp(run.path.stat().st_mtime, timezone.utc)
                except FileNotFoundError:
                    continue
            rows.append((created, summary))
        rows.sort(key=lambda row: (row[0], row[1].run_id), reverse=True)
        return [summary for _, summary in rows]

    def delete(self, run_id: str, *, force: bool = False) -> None:
        """Remove a run: rename it to a hidden trash name (atomic for readers), then rmtree.

        A run in state "running" is refused with ConfigError unless `force`: its process
        would go on writing into a folder that no longer exists.
        """
        run = self.get(run_id)
        if not force:
            try:
                running = run.status()["state"] == "running"
            except (RecCoreError, OSError):
                running = False  # a corrupt run can always be deleted
            if running:
                raise ConfigError("run_id", f"{run_id!r} is running; stop it first or force")
        trash = self.root / f".trash-{run_id}-{secrets.token_hex(4)}"
        os.rename(run.path, trash)
        shutil.rmtree(trash, ignore_errors=True)
