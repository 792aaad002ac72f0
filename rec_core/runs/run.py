"""Run: one run folder and its files, every write atomic (ARCHITECTURE.md, "Run store").

    <root>/<run_id>/config.json        the run's config (written once, at create)
                    status.json        state, error, timestamps, pid + hostname, progress
                    history.jsonl      one line per epoch
                    results.json       valid / test metrics, segments, timings, versions
                    tables/<name>.parquet, artifacts/<name>.json, model.safetensors
                    STOP               present once a stop was requested
                    log.txt            stdout + stderr of a launched process
                    failure.json       space reserved at start for the cause of a failure that
                                       could not be written to status.json (a full disk)

Order of writes at the end of a run: tables and checkpoint, then results.json (which records
the size and SHA-256 of each of them under "files"), then the final state in status.json.
The state read back follows one rule: a run whose results and files are complete is never
called failed (a process killed after writing results.json reads as done or stopped), and
one whose files are missing or truncated is never called done (it lists as "corrupt",
naming the file). Sizes are checked when listing, checksums when a file is loaded.

Readers never lock and never rewrite files: writers replace whole files atomically, and
derived facts (a "running" run whose process died) are computed on read.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rec_core.configs import sub_table
from rec_core.errors import ConfigError, RecCoreError
from rec_core.runs.atomic import (
    CorruptRunFile,
    RunFileNotFound,
    append_jsonl,
    atomic_path,
    file_lock,
    load_json,
    read_json,
    read_jsonl,
    write_bytes_atomic,
    write_json_atomic,
)
from rec_core.runs import failure_note
from rec_core.runs.environment import hostname, owner_died, pid_alive, process_start_token
from rec_core.runs.names import utc_now, validate_run_id
from rec_core.runs.record import HistoryRow, RunResults, RunStatus

if TYPE_CHECKING:  # heavy imports stay lazy: the app polls the store many times a minute
    import pandas as pd
    import torch

__all__ = ["CONFIG_FILE", "FINISHED_STATES", "RUN_STATES", "STATUS_FILE", "Run", "file_sha256"]

RUN_STATES = ("queued", "running", "done", "failed", "stopped")
FINISHED_STATES = frozenset({"done", "failed", "stopped"})
CONFIG_FILE, STATUS_FILE, _HISTORY, _RESULTS = "config.json", "status.json", "history.jsonl", "results.json"
_CHECKPOINT, _STOP, _STATUS_LOCK = "model.safetensors", "STOP", ".status.lock"
# A "queued" run that names neither a queue command nor its creator's pid (created by an older
# version) reads as failed once it has waited this long: no process will ever start it.
QUEUED_ABANDONED_S = 3600.0


def _parse_utc(value: Any) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def file_sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
        return read_json(self.path / CONFIG_FILE)

    def raw_status(self) -> dict[str, Any]:
        """status.json exactly as stored (no liveness check)."""
        return read_json(self.path / STATUS_FILE)

    def status(self) -> dict[str, Any]:
        """status.json, with what a "running" run's files say about how it really ended.

        A "running" run whose process died reads as "done" / "stopped" when its results and
        files are complete (killed after writing them), else as "failed" with the cause its
        process left in failure.json (a full disk), else "died without finishing (killed?)".
        A "running" run whose process recorded a failure in failure.json reads as failed. A
        "queued" run that is not the queue's and will never start (`_never_started`: its
        creator died first) reads as failed, saying why.
        Keys: state, error, created_at, started_at, finished_at, pid, hostname, phase,
        progress, updated_at (plus whatever writers added, e.g. command, queued_at).
        Raises CorruptRunFile if the file is unreadable or holds an unknown state.
        """
        st = self.raw_status()
        if owner_died(st):
            # Re-read: the process may have written its final state just before exiting.
            st = self.raw_status()
            if owner_died(st):
                st = self._ended_without_status(st)
        if st.get("state") == "running":
            failure = self.recorded_failure(st)
            if failure is not None:
                st = {**st, "state": "failed", "error": failure}
        elif st.get("state") == "queued" and st.get("command") is None:
            abandoned = self._never_started(st)
            if abandoned is not None:
                st = {**st, "state": "failed", "phase": "failed", "error": abandoned}
        if st.get("state") not in RUN_STATES:
            raise CorruptRunFile(self.path / STATUS_FILE, f"unknown state {st.get('state')!r}")
        return st

    def status_record(self) -> RunStatus:
        """`status()` typed (a file without a schema version reads as version 0)."""
        return RunStatus.from_dict(self.status())

    def _never_started(self, st: dict[str, Any]) -> str | None:
        """Why a "queued" run that is not the queue's (no command) will never start, or None.

        Its creator's pid (`start_run` records it) says: the process died before it started
        the run (killed, or a full disk, whose cause it may have left in failure.json). A run
        created without one (an older store) is abandoned once it has waited QUEUED_ABANDONED_S.
        """
        failure = self.recorded_failure(st)
        if failure is not None:
            return failure
        pid = st.get("pid")
        if isinstance(pid, int):
            if st.get("hostname") == hostname() and not pid_alive(pid, st.get("pid_started")):
                return f"never started: process {pid}, which created it, ended before starting it (killed?)"
            return None
        created = _parse_utc(st.get("created_at"))
        if created is not None and (datetime.now(timezone.utc) - created).total_seconds() > QUEUED_ABANDONED_S:
            return f"never started: no process took it up within {QUEUED_ABANDONED_S:.0f} s of its creation"
        return None

    def _ended_without_status(self, st: dict[str, Any]) -> dict[str, Any]:
        """The state of a "running" run whose process is gone, from the files it left."""
        try:
            results = self.results()
        except (RecCoreError, OSError):
            results = None
        completion = sub_table(results, "completion")
        if (
            isinstance(results, dict)
            and completion.get("state") in ("finished", "stopped")
            and isinstance(results.get("files"), dict)
            and self.check_files(results) is None
        ):
            state = "stopped" if completion["state"] == "stopped" else "done"
            finished_at: str | None
            try:
                ended = datetime.fromtimestamp((self.path / _RESULTS).stat().st_mtime, timezone.utc)
                finished_at = ended.isoformat(timespec="microseconds")
            except OSError:
                finished_at = st.get("updated_at")
            return {
                **st,
                "state": state,
                "phase": state,
                "error": None,
                "completion": completion,
                "finished_at": finished_at,
                "note": "the process ended before recording its final state; results and files are complete",
            }
        failure = self.recorded_failure(st)
        return {**st, "state": "failed", "error": failure or f"process {st['pid']} died without finishing (killed?)"}

    # -- the failure note: written in place when status.json cannot be written -----------
    def reserve_failure_note(self) -> None:
        """Allocate failure.json now (see `rec_core.runs.failure_note`); best effort."""
        failure_note.reserve_failure_note(self.path)

    def record_failure_in_place(self, error: str, pid: int) -> bool:
        """Write {"pid", "error"} over the reserved failure.json; True if it was written."""
        return failure_note.record_failure_in_place(self.path, error, pid)

    def recorded_failure(self, st: dict[str, Any]) -> str | None:
        """The error a process recorded in failure.json while `st` was its status, if any."""
        return failure_note.recorded_failure(self.path, st)

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
            write_json_atomic(self.path / STATUS_FILE, current)
        return current

    # -- history and results -----------------------------------------------------------
    def append_history(self, record: dict[str, Any]) -> None:
        """Append one record (typically one epoch) to history.jsonl."""
        append_jsonl(self.path / _HISTORY, record)

    def history(self) -> list[dict[str, Any]]:
        """All history records in order; torn lines from a crash are skipped."""
        return read_jsonl(self.path / _HISTORY)

    def history_rows(self) -> list[HistoryRow]:
        """`history()` as typed rows."""
        return [HistoryRow.from_dict(r) for r in self.history()]

    def write_results(self, results: dict[str, Any] | RunResults) -> None:
        """Write results.json atomically (a dict as given, a RunResults as its `to_dict`)."""
        write_json_atomic(self.path / _RESULTS, results.to_dict() if isinstance(results, RunResults) else results)

    def results(self) -> dict[str, Any] | None:
        """results.json, or None while the run has not written it."""
        try:
            return read_json(self.path / _RESULTS)
        except RunFileNotFound:
            return None

    def results_record(self) -> RunResults | None:
        """`results()` typed (a file without a schema version reads as version 0)."""
        results = self.results()
        return RunResults.from_dict(results) if isinstance(results, dict) else None

    def file_manifest(self, names: list[str]) -> dict[str, dict[str, Any]]:
        """{relative path: {"size", "sha256"}} of the run files `names` that exist, for
        results["files"]: what `check_files` and the loaders verify later."""
        manifest: dict[str, dict[str, Any]] = {}
        for name in names:
            path = self.path / name
            if path.is_file():
                manifest[name] = {"size": path.stat().st_size, "sha256": file_sha256(path)}
        return manifest

    def _recorded_file(self, name: str, results: dict[str, Any] | None = None) -> dict[str, Any] | None:
        if results is None:
            try:
                results = self.results()
            except (RecCoreError, OSError):
                return None
        files = results.get("files") if isinstance(results, dict) else None
        record = files.get(name) if isinstance(files, dict) else None
        return record if isinstance(record, dict) else None

    def check_files(self, results: dict[str, Any] | None = None, *, checksums: bool = False) -> str | None:
        """What is wrong with the files results.json records ("model.safetensors: missing ..."
        / "...: truncated ...", the path relative to the run folder), or None when each exists with its recorded size (and, with
        `checksums`, its SHA-256). Runs written before the record are not checked."""
        if results is None:
            results = self.results()
        files = results.get("files") if isinstance(results, dict) else None
        if not isinstance(files, dict):
            return None
        for name, record in files.items():
            if not isinstance(name, str) or ".." in Path(name).parts or Path(name).is_absolute():
                return f"{self.path / _RESULTS}: bad file entry {name!r}"
            problem = self._check_one(name, record, checksums)
            if problem:
                return problem
        return None

    def _check_one(self, name: str, record: Any, checksum: bool) -> str | None:
        path = self.path / name
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return f"{name}: missing (results.json records it)"
        except OSError as exc:
            return f"{name}: unreadable ({exc.strerror})"
        if not isinstance(record, dict):
            return None
        if isinstance(record.get("size"), int) and size != record["size"]:
            return f"{name}: truncated or changed ({size} bytes, results.json records {record['size']})"
        if checksum and isinstance(record.get("sha256"), str) and file_sha256(path) != record["sha256"]:
            return f"{name}: checksum differs from the one results.json records (file changed or damaged)"
        return None

    def _verify_before_load(self, name: str) -> None:
        """CorruptRunFile if `name` differs from its size / SHA-256 in results.json."""
        record = self._recorded_file(name)
        if record is not None:
            problem = self._check_one(name, record, True)
            if problem:
                raise CorruptRunFile(self.path / name, problem.split(": ", 1)[1])

    # -- tables, checkpoint, artifacts -------------------------------------------------
    def write_table(self, name: str, df: pd.DataFrame) -> None:
        """Write `df` to tables/<name>.parquet atomically (e.g. "per_user_test")."""
        folder = self.path / "tables"
        folder.mkdir(exist_ok=True)
        with atomic_path(folder / f"{validate_run_id(name, 'name')}.parquet") as tmp:
            df.to_parquet(tmp)
        self._rerecord(f"tables/{name}.parquet")

    def read_table(self, name: str) -> pd.DataFrame:
        """Read tables/<name>.parquet; RunFileNotFound / CorruptRunFile on failure."""
        import pandas as pd

        path = self.path / "tables" / f"{validate_run_id(name, 'name')}.parquet"
        if not path.is_file():
            raise RunFileNotFound(path)
        self._verify_before_load(f"tables/{name}.parquet")
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several unrelated types for bad files
            raise CorruptRunFile(path, f"unreadable parquet ({exc})") from exc

    def save_checkpoint(self, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
        """Write model.safetensors atomically.

        The bytes depend only on the tensors and the metadata (`tensor_file.write_tensors`:
        sorted metadata, fixed tensor order), so identical runs write identical files and the
        SHA-256 recorded in results.json reproduces. Tensors are detached, moved to CPU and
        made contiguous; tied weights are written once per name.
        """
        from rec_core.runs.tensor_file import write_tensors

        bad = [k for k, v in metadata.items() if not (isinstance(k, str) and isinstance(v, str))]
        if bad:
            raise ConfigError("metadata", f"keys and values must be str; not for {bad}")
        with atomic_path(self.path / _CHECKPOINT) as tmp:
            write_tensors(tmp, tensors, metadata)
        self._rerecord(_CHECKPOINT)

    def _rerecord(self, name: str) -> None:
        """After the store rewrote `name` of a finished run, update its size and checksum in
        results.json, so that only changes made behind the store's back read as damage."""
        try:
            results = self.results()
        except (RecCoreError, OSError):
            return
        if self._recorded_file(name, results) is None:
            return
        assert results is not None
        results["files"].update(self.file_manifest([name]))
        self.write_results(results)

    def load_checkpoint(self) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
        """Return (tensors on CPU, metadata) from model.safetensors."""
        from safetensors import safe_open

        path = self.path / _CHECKPOINT
        if not path.is_file():
            raise RunFileNotFound(path)
        self._verify_before_load(_CHECKPOINT)
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
