"""rec_core.analysis.loading: every way a run cannot be opened is said in words."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from rec_core.analysis import RunNotAnalysable, has_attention, load_model, open_run, run_config
from rec_core.experiment import CheckpointMismatch, prepare_data
from rec_core.runs import RunNotFound, RunStore


@pytest.fixture()
def store(analysis_runs_copy: Path) -> RunStore:
    return RunStore(analysis_runs_copy)


def _data(store: RunStore, run_id: str) -> tuple:
    return prepare_data(run_config(store.get(run_id)))


def test_finished_runs_open_and_others_are_refused(store: RunStore) -> None:
    run = open_run(store, "attn-c0")
    assert has_attention(run.config()["model"]) and not has_attention(store.get("noattn").config()["model"])
    store.get("mf").set_status("running", phase="training")
    with pytest.raises(RunNotAnalysable, match="is running; only finished runs"):
        open_run(store, "mf")
    (store.root / "noattn" / "results.json").unlink()
    with pytest.raises(RunNotAnalysable, match="no results.json"):
        open_run(store, "noattn")
    with pytest.raises(RunNotFound, match="not found"):
        open_run(store, "no-such-run")


def test_missing_damaged_and_foreign_checkpoints(store: RunStore) -> None:
    data, _ = _data(store, "attn-c0")
    run = store.get("attn-c0")
    path = run.path / "model.safetensors"
    good = path.read_bytes()
    state, meta = run.load_checkpoint()

    path.unlink()
    with pytest.raises(RunNotAnalysable, match="no checkpoint"):
        load_model(run, data)
    path.write_bytes(good[:100])
    with pytest.raises(RunNotAnalysable, match="damaged"):
        load_model(run, data)
    run.save_checkpoint(state, {**meta, "rec_core_checkpoint": "0"})
    with pytest.raises(RunNotAnalysable, match="format '0'"):
        load_model(run, data)
    other = dict(state)
    other.pop(next(iter(other)))  # a tensor this version expects is missing
    run.save_checkpoint(other, meta)
    with pytest.raises(RunNotAnalysable, match="another version"):
        load_model(run, data)
    key = next(k for k, v in state.items() if v.ndim == 2)
    run.save_checkpoint({**state, key: torch.zeros(3, 3)}, meta)  # shapes from other settings
    with pytest.raises(RunNotAnalysable, match="another version") as info:
        load_model(run, data)
    assert isinstance(info.value.__cause__, CheckpointMismatch)  # the project's error, raised where it loads
    # Restored through the store: bytes written behind its back would differ from the size and
    # checksum results.json records (tests/faults), and a store write updates the record.
    run.save_checkpoint(state, meta)
    assert load_model(run, data).name == "enhanced"


def test_a_config_from_another_version(store: RunStore) -> None:
    run = store.get("mf")
    config = run.config()
    config["model"]["flux_capacitor"] = 1
    import json

    (run.path / "config.json").write_text(json.dumps(config))
    with pytest.raises(RunNotAnalysable, match="another version of rec_core"):
        run_config(run)
    shutil.rmtree(run.path)


def test_an_unrelated_error_while_loading_is_not_called_another_version(
    store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only a checkpoint that does not fit (CheckpointMismatch) reads as "another version"; a
    # bug elsewhere in loading keeps its own type and message.
    import rec_core.experiment as experiment

    data, _ = _data(store, "mf")

    def broken(*_a: object, **_k: object) -> None:
        raise ValueError("a bug, not a checkpoint")

    monkeypatch.setattr(experiment, "build_model", broken)
    with pytest.raises(ValueError, match="a bug, not a checkpoint") as info:
        load_model(store.get("mf"), data)
    assert not isinstance(info.value, RunNotAnalysable)
