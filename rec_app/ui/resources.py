"""Shared, cached things the pages read: the run store and its queue, the background queue
ticker and its warm worker, backbone and dataset status, and run files (cached by path and modification time).

`st.cache_resource` holds one object per server process (bounded by `max_entries`);
`st.cache_data` holds derived tables. A run being trained is never cached here: it lives in
its own process and the pages only read its files.
"""

from __future__ import annotations

import importlib
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from rec_app.train.launch import max_parallel, runs_root
from rec_app.runs.table import RunRow, list_rows
from rec_core.runs import QueueTicker, Run, RunQueue, RunStore

__all__ = [
    "store",
    "queue",
    "rows",
    "backbones",
    "backbones_nowait",
    "wait_library",
    "datasets",
    "per_user_table",
    "run_results",
    "run_history",
    "file_stamp",
    "precompute_projections",
    "TICK_SECONDS",
]

TICK_SECONDS = 1.0  # how often the server starts queued runs whose turn has come
WARM_ENV = "REC_CORE_WARM_WORKER"
PRECOMPUTE_ENV = "REC_CORE_PRECOMPUTE_PROJECTIONS"  # 0: no background UMAP layouts (the tests)


@st.cache_resource(max_entries=4, show_spinner=False)
def _store(root: str) -> RunStore:
    return RunStore(root)


def store() -> RunStore:
    """The run store at $REC_CORE_RUNS (default `runs/`); recreated if its folder was removed."""
    root = str(runs_root().resolve())
    s = _store(root)
    s.root.mkdir(parents=True, exist_ok=True)
    return s


def warm_worker_enabled() -> bool:
    """Whether the queue keeps a warm worker ($REC_CORE_WARM_WORKER, default 1; the tests set 0:
    each store would otherwise start a process that imports torch)."""
    return os.environ.get(WARM_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


@st.cache_resource(max_entries=4, show_spinner=False)
def _queue(root: str, parallel: int, warm: bool) -> tuple[RunQueue, QueueTicker]:
    run_queue = RunQueue(RunStore(root), max_parallel=parallel, warm=warm)
    return run_queue, QueueTicker(run_queue, TICK_SECONDS)


def queue() -> RunQueue:
    """The store's queue (at most $REC_CORE_MAX_PARALLEL runs at once, a warm worker waiting
    for the next run), with its ticker (`rec_core.runs.QueueTicker`: it logs a failed tick)."""
    return _queue(str(store().root), max_parallel(), warm_worker_enabled())[0]


def rows() -> list[RunRow]:
    """All runs of the store as table rows, newest first (read fresh on every call)."""
    return list_rows(store())


def _warm() -> None:
    """Import the heavy half of rec_core (torch, transformers: ~10 s on a small CPU) once."""
    for module in ("rec_core.experiment", "rec_core.text"):
        importlib.import_module(module)


@st.cache_resource(max_entries=1, show_spinner=False)
def _warm_future() -> Future[None]:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="rec_core-warmup").submit(_warm)


def wait_library() -> None:
    """Block until the model library is imported (started in the background on first use)."""
    _warm_future().result()


def backbones_nowait() -> list[dict[str, object]] | None:
    """The backbones, or None while the library is still being imported in the background
    (so the home page paints at once on a fresh server)."""
    future = _warm_future()
    if not future.done():
        return None
    future.result()
    return backbones()


@st.cache_resource(max_entries=1, ttl=60, show_spinner=False)
def backbones() -> list[dict[str, object]]:
    """`rec_core.text.available_backbones()`, re-checked at most once a minute."""
    from rec_core.text import available_backbones

    return available_backbones()


@st.cache_resource(max_entries=1, ttl=30, show_spinner=False)
def datasets() -> list[dict[str, str | None]]:
    """`rec_core.data.dataset_status()`, re-checked at most every 30 seconds."""
    from rec_core.data import dataset_status

    return dataset_status()


def file_stamp(path: Path) -> float:
    """Modification time of `path` (0.0 if missing): part of cache keys, so edits invalidate."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@st.cache_data(max_entries=128, show_spinner=False)
def _per_user(run_dir: str, stamp: float) -> pd.DataFrame:
    return Run(run_dir).read_table("per_user_test")


def per_user_table(run_id: str) -> pd.DataFrame:
    """The run's per-user test metrics (RunNotFound / RunFileNotFound / CorruptRunFile raise)."""
    run = store().get(run_id)
    return _per_user(str(run.path), file_stamp(run.path / "tables" / "per_user_test.parquet"))


@st.cache_data(max_entries=256, show_spinner=False)
def _results(run_dir: str, stamp: float) -> dict[str, Any] | None:
    return Run(run_dir).results()


def run_results(run_id: str) -> dict[str, Any] | None:
    """results.json of the run (None if not written yet)."""
    run = store().get(run_id)
    return _results(str(run.path), file_stamp(run.path / "results.json"))


def run_history(run_id: str) -> list[dict[str, Any]]:
    """history.jsonl of the run ([] when none); read fresh, it grows while the run trains."""
    return store().get(run_id).history()


@st.cache_resource(max_entries=1, show_spinner=False)
def _precomputer() -> tuple[ThreadPoolExecutor, set[str]]:
    """One low-priority background thread for the whole server, and the run folders given to it."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="rec_core-projections"), set()


def _precompute(run_dir: str, stamp: float) -> None:
    import threading

    from rec_core.analysis.projection_cache import precompute_run

    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 15)  # this thread only: runs and pages first
    except (AttributeError, OSError):
        pass
    try:
        precompute_run(run_dir, stamp)
    except Exception:  # noqa: BLE001 - a run that cannot be analysed: the page says why when opened
        pass


def precompute_projections(run_id: str) -> None:
    """Compute the Embeddings page's default UMAP layouts of a finished run in the background
    (once per run and server; $REC_CORE_PRECOMPUTE_PROJECTIONS=0 turns it off), so the page's
    first projection is read from disk instead of taking tens of seconds."""
    if os.environ.get(PRECOMPUTE_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return
    folder = store().root / run_id
    stamp = file_stamp(folder / "results.json")
    executor, given = _precomputer()
    key = f"{folder}:{stamp}"
    if key not in given:
        given.add(key)
        executor.submit(_precompute, str(folder), stamp)
