"""Step progress inside an epoch: status.json carries step, steps, rate and ETA while an epoch
runs (what the Train page shows), and the CLI draws a step bar with tqdm's rate and ETA."""

from __future__ import annotations

import io
import time
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any

import pytest

from rec_core import run_progress
from rec_core.experiment import execute_run, start_run
from rec_core.progress import ConsoleProgress
from rec_core.runs import RunStore
from tests.app_store import tiny_config


def test_status_holds_the_running_epochs_step_rate_and_eta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_progress, "STEP_STATUS_S", 0.0)  # every step written (the default: once a second)
    config = tiny_config("mf", 0, epochs=2)
    config = type(config)(
        **{**config.__dict__, "train": type(config.train)(**{**config.train.__dict__, "batch_size": 64})}
    )
    run = start_run(config, RunStore(tmp_path / "runs"))
    seen: list[dict[str, Any]] = []

    def spy(info: dict[str, Any]) -> None:
        if info.get("event") == "step" and info["step"] == 4:  # the status written after step 3
            seen.append({**run.raw_status()["progress"], "phase": run.raw_status()["phase"]})

    execute_run(run, spy)
    assert len(seen) == 2  # one look per epoch
    first, second = seen
    assert first["step"] == 3 and first["steps"] > 4 and first["step_epoch"] == 1 and first["epoch"] == 0
    assert first["steps_per_s"] > 0 and first["epoch_eta_s"] >= 0 and first["phase"] == "training"
    assert second["step_epoch"] == 2 and second["epoch"] == 1 and second["epochs"] == 2
    assert "step" not in run.raw_status()["progress"]  # an epoch's end replaces its step progress


def test_the_cli_bar_shows_steps_with_rate_and_eta() -> None:
    err = io.StringIO()
    progress = ConsoleProgress("run-x")
    with redirect_stderr(err):
        progress({"event": "phase", "phase": "encoding text"})
        for step in range(1, 6):
            time.sleep(0.12)  # tqdm redraws at most every 0.1 s
            progress({"event": "step", "epoch": 1, "step": step, "steps": 5, "loss": 0.5, "epochs": 2})
        progress({"event": "epoch", "epoch": 1, "epochs": 2, "loss": {"total": 0.5}, "valid": {"ndcg@10": 0.1}})
        progress.close()
    text = err.getvalue()
    assert "run-x: encoding text took" in text
    assert "epoch 1:" in text and "/5 [" in text and "step/s" in text and "loss=0.5000" in text
    assert "1/2 [" in text and "val_ndcg@10=0.1000" in text
