"""Crash-safe file primitives for the run store: atomic replace, appendable JSON lines, locks.

A reader (the app polling a run) must never see a half-written file: every whole-file write
goes to a temporary file in the same folder (same filesystem, so the rename is atomic), is
fsynced, and then replaces the target with `os.replace`. History is append-only JSON lines,
where a crash can tear only the last line, and readers skip torn lines.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from filelock import FileLock

from rec_core.errors import RecCoreError

__all__ = [
    "CorruptRunFile",
    "RunFileNotFound",
    "append_jsonl",
    "atomic_path",
    "file_lock",
    "load_json",
    "read_json",
    "read_jsonl",
    "write_bytes_atomic",
    "write_json_atomic",
]


class CorruptRunFile(RecCoreError, ValueError):
    """A run file exists but cannot be parsed; `path` names it and the message says why."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path}: {reason}")


class RunFileNotFound(RecCoreError, FileNotFoundError):
    """A run file that was asked for does not exist; `path` names it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path}: no such file")


def _fsync_dir(folder: Path) -> None:
    """Persist a rename by fsyncing its folder; best effort (not every platform allows it)."""
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success fsync it and `os.replace` it onto `path`.

    On any exception the temporary file is removed and `path` is left untouched. The parent
    folder must exist: creating it here could resurrect a run folder that was deleted while
    its process was still writing.
    """
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    # os.open with 0o666 lets the umask decide permissions, as a plain open() would
    # (mkstemp would force 0600 and hide results from other users of a shared store).
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    mode = os.stat(tmp).st_mode & 0o777  # what the umask allows for a new file
    try:
        yield tmp
        # Some writers (safetensors) replace the file they are given and create it 0600:
        # give the result the same permissions as every other run file.
        if os.stat(tmp).st_mode & 0o777 != mode:
            os.chmod(tmp, mode)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)


def _json_default(obj: Any) -> Any:
    """Encode numpy / torch scalars and arrays, which metric code returns routinely."""
    if hasattr(obj, "tolist"):  # numpy arrays and scalars, torch tensors
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    raise TypeError(f"object of type {type(obj).__name__} is not JSON serialisable")


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write `obj` as indented UTF-8 JSON to `path` atomically (NaN is written as `NaN`)."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False, default=_json_default)
        f.write("\n")


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def append_jsonl(path: str | Path, record: dict[str, Any]) -> None:
    """Append `record` as one JSON line to `path` (created if missing), then flush and fsync.

    If the file ends in a torn line (a writer died mid-line), a newline is written first so
    the new record starts on its own line instead of being glued onto the fragment.
    """
    line = json.dumps(record, ensure_ascii=False, default=_json_default).encode("utf-8")
    with open(path, "a+b") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() > 0:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                line = b"\n" + line
        # One write() call on an O_APPEND file: concurrent appenders do not interleave.
        f.write(line + b"\n")
        f.flush()
        os.fsync(f.fileno())


def load_json(path: str | Path) -> Any:
    """Parse the JSON file at `path`; RunFileNotFound if missing, CorruptRunFile if invalid."""
    p = Path(path)
    try:
        with open(p, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise RunFileNotFound(p) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorruptRunFile(p, f"invalid JSON ({exc})") from exc


def read_json(path: str | Path) -> dict[str, Any]:
    """Return the JSON object stored at `path`; CorruptRunFile if it is not a JSON object."""
    obj = load_json(path)
    if not isinstance(obj, dict):
        raise CorruptRunFile(path, f"expected a JSON object, found {type(obj).__name__}")
    return obj


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Return the JSON-object lines of `path` ([] if missing), skipping unparseable lines.

    Any line may be torn, not only the last: after a crash `append_jsonl` starts the next
    record on a fresh line, which leaves the fragment in the middle of the file.
    """
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    records: list[dict[str, Any]] = []
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if isinstance(obj, dict):
            records.append(obj)
    return records


@contextmanager
def file_lock(path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on the lock file `path` (created if missing, never removed) for
    the `with` body: `filelock.FileLock`, an flock on POSIX, a Windows lock there.

    Each call opens its own lock, so two threads of one process that each enter this block
    exclude each other just as two processes do. The lock is released by the kernel if the
    holder dies. Its folder must exist: filelock would create missing parents, and a process
    still writing into a run folder someone deleted would bring the folder back (an orphan
    run's status write must fail instead, as `open` does).
    """
    folder = Path(path).parent
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} does not exist (deleted?): no lock file created there")
    with FileLock(path):
        yield
