"""Several processes train one run (torch.distributed, gloo on CPU): the same metrics as one
process with the same effective batch; rank 0 alone writes; a failing rank fails the run;
evaluation sharded over ranks or in small chunks gives the same numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rec_core.data import DataConfig
from rec_core.evaluate import EvalConfig, evaluate
from rec_core.evaluate.ranking import chunk_users
from rec_core.experiment import RunConfig, execute_run, start_run
from rec_core.models.enhanced import EnhancedConfig
from rec_core.models.mf import MFConfig
from rec_core.runs import RunStore
from rec_core.train import TrainConfig, Trainer
from tests.helpers import split_of, synthetic

pytestmark = pytest.mark.slow
DATA = DataConfig(name="synthetic", synthetic_users=120, synthetic_items=90)
HERE = Path(__file__).resolve().parent


def _config(model: Any, batch_size: int) -> RunConfig:
    return RunConfig(
        data=DATA,
        model=model,
        seed=3,
        train=TrainConfig(epochs=3, lr=0.01, batch_size=batch_size, patience=0, device="cpu"),
    )


def _torchrun(args: list[str], tmp: Path, entry: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "REC_CORE_CACHE": str(tmp / "cache")}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        *(entry or ["-m", "rec_core"]),
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=tmp)


def _train_two_processes(
    config: RunConfig, tmp: Path, run_id: str, entry: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    path = tmp / f"{run_id}.json"
    cfg = config.to_dict()
    path.write_text(json.dumps({k: cfg[k] for k in ("data", "split", "model", "train", "eval")}))
    return _torchrun(
        [
            "train",
            "--config",
            str(path),
            "--seed",
            str(config.seed),
            "--runs-dir",
            str(tmp / "runs"),
            "--run-id",
            run_id,
            "--quiet",
        ],
        tmp,
        entry,
    )


@pytest.mark.parametrize(
    "model",
    [
        MFConfig(embed_dim=16),
        # Cache mode; dropout and the InfoNCE sample are random draws per rank, so off here.
        EnhancedConfig(
            backbone="tiny-gpt2",
            max_length=32,
            embed_dim=16,
            n_heads=2,
            id_dropout=0.0,
            dropout=0.0,
            contrastive_weight=0.0,
        ),
    ],
    ids=["mf", "enhanced-cached"],
)
def test_two_processes_reproduce_one_process_with_the_same_effective_batch(
    model: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REC_CORE_CACHE", str(tmp_path / "cache"))
    proc = _train_two_processes(_config(model, batch_size=128), tmp_path, "two")
    assert proc.returncode == 0, proc.stderr[-3000:]
    store = RunStore(tmp_path / "runs")
    assert store.run_ids() == ["two"]  # rank 1 created nothing
    two = store.get("two").results()
    assert two["processes"] == 2 and store.get("two").status()["state"] == "done"
    one = execute_run(start_run(_config(model, batch_size=256), RunStore(tmp_path / "single")))
    assert one["processes"] == 1
    for part in ("valid", "test"):
        a, b = two[part]["primary"]["metrics"], one[part]["primary"]["metrics"]
        assert a.keys() == b.keys()
        for k in a:
            assert a[k] == pytest.approx(b[k], abs=1e-6), (part, k)
    h2 = store.get("two").history()
    h1 = RunStore(tmp_path / "single").get(one["run_id"]).history()
    assert [r["loss"]["total"] for r in h2] == pytest.approx([r["loss"]["total"] for r in h1], rel=1e-5)


def test_a_failing_rank_fails_the_run(tmp_path: Path) -> None:
    proc = _train_two_processes(
        _config(MFConfig(embed_dim=16), 128), tmp_path, "broken", entry=[str(HERE / "distributed" / "failing_rank.py")]
    )
    assert proc.returncode != 0
    assert "injected failure on rank 1" in proc.stderr
    status = RunStore(tmp_path / "runs").get("broken").raw_status()
    assert status["state"] == "failed", status
    assert "2 processes" in status["error"]


def test_a_bad_input_ends_every_rank_without_a_run_folder(tmp_path: Path) -> None:
    proc = _torchrun(
        [
            "train",
            "--dataset",
            "synthetic",
            "--model",
            "mf",
            "--runs-dir",
            str(tmp_path / "runs"),
            "--run-id",
            "../escape",
            "--quiet",
        ],
        tmp_path,
    )
    assert proc.returncode != 0 and "run" in proc.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_evaluation_in_small_chunks_gives_the_same_metrics() -> None:
    data = synthetic()
    split = split_of(data, "ratio")
    from rec_core.models.mf import MF

    model = MF(data.n_users, data.n_items, MFConfig(embed_dim=8))
    Trainer(model, data, split, TrainConfig(epochs=1, batch_size=256, device="cpu")).fit()
    # 1 MB for 90 items: thousands of users fit; a tiny budget forces single-user chunks.
    assert chunk_users(data.n_items, EvalConfig()) == EvalConfig().chunk_size
    assert chunk_users(100_000, EvalConfig(memory_mb=16)) == 10
    assert chunk_users(10**9, EvalConfig(memory_mb=1)) == 1
    whole = evaluate(model, data, split, "test", EvalConfig(), with_ranks=True)
    tiny = evaluate(model, data, split, "test", EvalConfig(memory_mb=1e-3), with_ranks=True)
    assert tiny.metrics == whole.metrics and tiny.coverage == whole.coverage
    assert tiny.ranks is not None and whole.ranks is not None and tiny.ranks.equals(whole.ranks)
