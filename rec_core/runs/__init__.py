"""The run store: one folder per run, atomic writes, background launch and a queue.

Importing this package is cheap (no torch / pandas until a checkpoint or table is touched),
so the app can poll run folders often.
"""

from rec_core.runs.atomic import (
    CorruptRunFile,
    RunFileNotFound,
    append_jsonl,
    read_json,
    read_jsonl,
    write_bytes_atomic,
    write_json_atomic,
)
from rec_core.runs.environment import environment_info, hostname, pid_alive
from rec_core.runs.runner import LaunchError, QueueTicker, RunQueue, launch
from rec_core.runs.store import (
    FINISHED_STATES,
    PRIMARY_METRICS,
    RUN_STATES,
    Run,
    RunNotFound,
    RunStore,
    RunSummary,
    new_run_id,
    utc_now,
    validate_run_id,
)

__all__ = [
    "FINISHED_STATES",
    "PRIMARY_METRICS",
    "RUN_STATES",
    "CorruptRunFile",
    "LaunchError",
    "QueueTicker",
    "Run",
    "RunFileNotFound",
    "RunNotFound",
    "RunQueue",
    "RunStore",
    "RunSummary",
    "append_jsonl",
    "environment_info",
    "hostname",
    "launch",
    "new_run_id",
    "pid_alive",
    "read_json",
    "read_jsonl",
    "utc_now",
    "validate_run_id",
    "write_bytes_atomic",
    "write_json_atomic",
]
