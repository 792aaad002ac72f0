"""failure.json: where a run's process records its failure when status.json cannot be written
(a full disk). The file is reserved (blank bytes) when the run starts, so that rewriting it
in place later needs no new space.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rec_core.runs.environment import process_start_token
from rec_core.runs.names import utc_now

__all__ = ["FAILURE_BYTES", "FAILURE_FILE", "record_failure_in_place", "recorded_failure", "reserve_failure_note"]

FAILURE_FILE, FAILURE_BYTES = "failure.json", 4096


def reserve_failure_note(folder: Path) -> None:
    """Allocate failure.json (blank) now, so that a failure can be recorded later even on a
    full disk: rewriting reserved bytes in place needs no new space. Best effort."""
    try:
        fd = os.open(folder / FAILURE_FILE, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o666)
        try:
            os.write(fd, b" " * (FAILURE_BYTES - 1) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def record_failure_in_place(folder: Path, error: str, pid: int) -> bool:
    """Write {"pid", "error"} over the reserved failure.json; True if it was written."""
    record: dict[str, Any] = {"pid": pid, "pid_started": process_start_token(pid), "at": utc_now(), "error": error}
    data = json.dumps(record, ensure_ascii=True).encode()
    while len(data) > FAILURE_BYTES - 1 and len(record["error"]) > 20:
        record["error"] = record["error"][: len(record["error"]) // 2] + "..."
        data = json.dumps(record, ensure_ascii=True).encode()
    try:
        fd = os.open(folder / FAILURE_FILE, os.O_WRONLY)
    except OSError:
        return False
    try:
        os.write(fd, data.ljust(FAILURE_BYTES - 1) + b"\n")
        os.fsync(fd)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def recorded_failure(folder: Path, st: dict[str, Any]) -> str | None:
    """The error a process recorded in failure.json while `st` was its status, if any."""
    try:
        raw = (folder / FAILURE_FILE).read_bytes()
    except OSError:
        return None
    if not raw.strip():
        return None
    try:
        record = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(record, dict) or record.get("pid") != st.get("pid"):
        return None  # left by an earlier attempt of this run
    if st.get("pid_started") and record.get("pid_started") and record["pid_started"] != st["pid_started"]:
        return None
    return f"{record.get('error')} (recorded in {FAILURE_FILE}: status.json could not be written)"
