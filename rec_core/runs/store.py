"""RunStore: one folder per run under a root, every write atomic (ARCHITECTURE.md, "Run store").

    <root>/<run_id>/config.json        the run's config (written once, at create)
                    status.json        state, error, timestamps, pid + hostname, progress
                    history.jsonl      one line per epoch
                    results.json       valid / test metrics, segments, timings, versions
                    tables/<name>.parquet, artifacts/<name>.json, model.safetensors
                    STOP               present once a stop was requested
                    log.txt            stdout + stderr of a launched process

Readers never lock and never rewrite files: writers replace whole files atomically, and
derived facts (a "running" run whose process died) are computed on read.
"""
from __future__ import annotations

import os
import secrets
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rec_core.errors import ConfigError, RecCoreError
from rec_core.runs.atomic import (CorruptRunFile, RunFileNotFound, append_jsonl, atomic_path,
                                   file_lock, load_json, read_json, read_jsonl,
                                   write_bytes_atomic, write_json_atomic)
from rec_core.runs.environment import hostname, owner_died, process_start_token
from rec_core.runs.names import is_safe_name, new_run_id, utc_now, validate_run_id
from rec_core.runs.summary import PRIMARY_METRICS, RunSummary, completion_of, duration_s, primary_metrics

if TYPE_CHECKING:  # heavy imports stay lazy: the app polls the store many times a minute
    import pandas as pd
    import torch

__all__ = ["FINISHED_STATES", "PRIMARY_METRICS", "RUN_STATES", "Run", "RunNotFound", "RunStore",
           "RunSummary", "new_run_id", "utc_now", "validate_run_id"]

RUN_STATES = ("queued", "running", "done", "failed", "stopped")
FINISHED_STATES = frozenset({"done", "failed", "stopped"})
_CONFIG, _STATUS, _HISTORY, _RESULTS = "config.json", "status.json", "history.jsonl", "results.json"
_CHECKPOINT, _STOP, _STATUS_LOCK = "model.safetensors", "STOP", ".status.lock"


class RunNotFound(RecCoreError, LookupError):
    """No run folder with this id exists in the store."""

    def __init__(self, run_id: str, root: Path) -> None:
        self.run_id = run_id
        super().__init__(f"run {run_id!r} not found in {root}")


class Run:
    """Handle on one run folder; every method reads or writes the files directly."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.run_id = self.path.name

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    # -- config and status -------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """The config dict written at create."""
        return read_json(self.path / _CONFIG)

    def raw_status(self) -> dict[str, Any]:
        """status.json exactly as stored (no liveness check)."""
        return read_json(self.path / _STATUS)

    def status(self) -> dict[str, Any]:
        """status.json, with a "running" run whose process died reported as "failed".

        Keys: state, error, created_at, started_at, finished_at, pid, hostname, phase,
        progress, updated_at (plus whatever writers added, e.g. command, queued_at).
        Raises CorruptRunFile if the file is unreadable or holds an unknown state.
        """
        st = self.raw_status()
        if owner_died(st):
            # Re-read: the process may have written its final state just before exiting.
            st = self.raw_status()
            if owner_died(st):
                st = {**st, "state": "failed",
                      "error": f"process {st['pid']} died without finishing (killed?)"}
        if st.get("state") not in RUN_STATES:
            raise CorruptRunFile(self.path / _STATUS, f"unknown state {st.get('state')!r}")
        return st

    def set_status(self, state: str | None = None, **fields: Any) -> dict[str, Any]:
        """Merge `fields` (and `state`) into status.json atomically; return the new status.

        A finished state (done / failed / stopped) sets finished_at, "running" sets
        started_at if unset; setting a pid also records this hostname and the process's
        start token, so liveness can be judged later. Writers serialise on a lock file so
        that concurrent merges (launcher and child) never lose each other's fields.
        """
        if state is not None and state not in RUN_STATES:
            raise ConfigError("state", f"{state!r} is not one of {', '.join(RUN_STATES)}")
        if fields.get("pid") is not None:
            fields.setdefault("hostname", hostname())
            fields.setdefault("pid_started", process_start_token(fields["pid"]))
        with file_lock(self.path / _STATUS_LOCK):
            current = self.raw_status()
            now = utc_now()
            if state is not None:
                current["state"] = state
                if state == "running":
                    current["started_at"] = current.get("started_at") or now
                    current["finished_at"] = None
                elif state in FINISHED_STATES:
                    current["finished_at"] = now
            current.update(fields)
            current["updated_at"] = now
            write_json_atomic(self.path / _STATUS, current)
        return current

    # -- history and results -----------------------------------------------------------
    def append_history(self, record: dict[str, Any]) -> None:
        """Append one record (typically one epoch) to history.jsonl."""
        append_jsonl(self.path / _HISTORY, record)

    def history(self) -> list[dict[str, Any]]:
        """All history records in order; torn lines from a crash are skipped."""
        return read_jsonl(self.path / _HISTORY)

    def write_results(self, results: dict[str, Any]) -> None:
        """Write results.json atomically."""
        write_json_atomic(self.path / _RESULTS, results)

    def results(self) -> dict[str, Any] | None:
        """results.json, or None while the run has not written it."""
        try:
            return read_json(self.path / _RESULTS)
        except RunFileNotFound:
            return None

    # -- tables, checkpoint, artifacts -------------------------------------------------
    def write_table(self, name: str, df: pd.DataFrame) -> None:
        """Write `df` to tables/<name>.parquet atomically (e.g. "per_user_test")."""
        folder = self.path / "tables"
        folder.mkdir(exist_ok=True)
        with atomic_path(folder / f"{validate_run_id(name, 'name')}.parquet") as tmp:
            df.to_parquet(tmp)

    def read_table(self, name: str) -> pd.DataFrame:
        """Read tables/<name>.parquet; RunFileNotFound / CorruptRunFile on failure."""
        import pandas as pd

        path = self.path / "tables" / f"{validate_run_id(name, 'name')}.parquet"
        if not path.is_file():
            raise RunFileNotFound(path)
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several unrelated types for bad files
            raise CorruptRunFile(path, f"unreadable parquet ({exc})") from exc

    def save_checkpoint(self, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
        """Write model.safetensors atomically.

        Tensors are detached, moved to CPU, made contiguous and cloned: safetensors refuses
        tensors that share storage (tied weights) or are non-contiguous views.
        """
        from safetensors.torch import save_file

        bad = [k for k, v in metadata.items() if not (isinstance(k, str) and isinstance(v, str))]
        if bad:
            raise ConfigError("metadata", f"keys and values must be str; not for {bad}")
        prepared = {name: t.detach().to("cpu").contiguous().clone() for name, t in tensors.items()}
        with atomic_path(self.path / _CHECKPOINT) as tmp:
            save_file(prepared, str(tmp), metadata=dict(metadata))

    def load_checkpoint(self) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
        """Return (tensors on CPU, metadata) from model.safetensors."""
        from safetensors import safe_open

        path = self.path / _CHECKPOINT
        if not path.is_file():
            raise RunFileNotFound(path)
        try:
            with safe_open(str(path), framework="pt") as f:
                metadata = dict(f.metadata() or {})
                tensors = {key: f.get_tensor(key) for key in f.keys()}
        except Exception as exc:  # SafetensorError for a truncated or foreign file
            raise CorruptRunFile(path, f"unreadable safetensors ({exc})") from exc
        return tensors, metadata

    def write_artifact(self, name: str, obj: Any) -> None:
        """Write `obj` as JSON to artifacts/<name>.json atomically."""
        folder = self.path / "artifacts"
        folder.mkdir(exist_ok=True)
        write_json_atomic(folder / f"{validate_run_id(name, 'name')}.json", obj)

    def read_artifact(self, name: str) -> Any:
        """The JSON value stored by `write_artifact(name, ...)`."""
        return load_json(self.path / "artifacts" / f"{validate_run_id(name, 'name')}.json")

    # -- cooperative stop and log ------------------------------------------------------
    def request_stop(self) -> None:
        """Ask the run's process to stop (it polls `stop_requested` between steps)."""
        write_bytes_atomic(self.path / _STOP, b"")

    def stop_requested(self) -> bool:
        """Whether a stop was requested."""
        return (self.path / _STOP).exists()

    def clear_stop(self) -> None:
        """Forget a stop request (before the run is queued again)."""
        (self.path / _STOP).unlink(missing_ok=True)

    def log_tail(self, max_bytes: int = 65536, log_name: str = "log.txt") -> str:
        """The last `max_bytes` of the process log ("" if there is none)."""
        try:
            with open(self.path / log_name, "rb") as f:
                f.seek(max(0, f.seek(0, os.SEEK_END) - max_bytes))
                return f.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""


class RunStore:
    """A folder of runs. Safe to use from several processes at once."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"RunStore({str(self.root)!r})"

    def create(self, config: dict[str, Any], run_id: str | None = None, prefix: str = "run") -> Run:
        """Create a run folder holding config.json and a "queued" status.json; return it.

        The folder is built under a hidden temporary name and renamed into place, so a
        reader sees either nothing or the complete folder. `run_id` defaults to
        `new_run_id(prefix)`; an existing id raises ConfigError("run_id", ...).
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
        tmp.mkdir()
        try:
            write_json_atomic(tmp / _CONFIG, config)
            now = utc_now()
            write_json_atomic(tmp / _STATUS, {
                "state": "queued", "error": None, "created_at": now, "started_at": None,
                "finished_at": None, "pid": None, "hostname": None, "phase": None,
                "progress": {}, "updated_at": now,
            })
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
            return [e.name for e in entries if is_safe_name(e.name) and e.is_dir()]

    def list(self) -> list[RunSummary]:
        """Summaries of all runs, newest first; never raises for one bad run.

        A run whose files are missing or corrupt appears with state "corrupt" and the error
        text (which names the file); a run deleted while being read is left out.
        """
        rows: list[tuple[str, RunSummary]] = []
        for run_id in self.run_ids():
            run = Run(self.root / run_id)
            try:
                st = run.status()
                results = run.results()
                summary = RunSummary(
                    run_id, st["state"], st.get("created_at"), st.get("finished_at"),
                    config=run.config(), metrics=primary_metrics(results),
                    error=st.get("error"), duration_s=duration_s(st),
                    completion=completion_of(st, results) if st["state"] in FINISHED_STATES else {},
                )
                sort_key = summary.created_at or ""
            except (RecCoreError, OSError, ValueError, TypeError) as exc:
                try:
                    modified = datetime.fromtimestamp(run.path.stat().st_mtime, timezone.utc)
                except FileNotFoundError:
                    continue  # deleted between listing and reading
                summary = RunSummary(run_id, "corrupt", None, None, error=str(exc))
                sort_key = modified.isoformat(timespec="microseconds")
            rows.append((sort_key, summary))
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
