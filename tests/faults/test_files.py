"""Leftovers of killed writers are swept; every run file gets the same permissions."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import torch

from rec_core.runs import RunStore
from rec_core.runs import store as store_module
from rec_core.runs.store import STALE_TMP_S


def _age(path: Path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_stale_tmp_files_are_swept_when_the_store_is_opened(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    run = RunStore(root).create({}, run_id="r")
    (run.path / "tables").mkdir()
    old = [
        run.path / ".results.json.0a1b2c.tmp",
        run.path / "tables" / ".per_user_test.parquet.9f.tmp",
        root / ".tmp-r2-0000abcd",
    ]
    old[0].write_bytes(b"half")
    old[1].write_bytes(b"half")
    old[2].mkdir()
    fresh = run.path / ".status.json.ffff.tmp"  # a writer may be busy with this one right now
    fresh.write_bytes(b"busy")
    for path in old:
        _age(path, STALE_TMP_S + 60)
    store_module._SWEPT.discard(str(root.resolve()))  # as in a new process
    RunStore(root)  # opening the store sweeps (once per process)
    assert not any(p.exists() for p in old) and fresh.exists()
    assert (run.path / "status.json").is_file()


def test_checkpoint_has_the_mode_of_the_other_run_files(tmp_path: Path) -> None:
    run = RunStore(tmp_path / "runs").create({}, run_id="r")
    run.save_checkpoint({"w": torch.ones(3)}, {"model": "mf"})
    run.write_results({"x": 1})
    modes = {
        name: stat.S_IMODE((run.path / name).stat().st_mode)
        for name in ("config.json", "results.json", "model.safetensors")
    }
    assert len(set(modes.values())) == 1, modes
