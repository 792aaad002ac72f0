"""Identical runs write identical files: the SHA-256 a run records reproduces."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from safetensors import safe_open

from rec_core.data import DataConfig
from rec_core.experiment import RunConfig, execute_run, start_run
from rec_core.models.mf import MFConfig
from rec_core.runs import RunStore
from rec_core.runs.tensor_file import write_tensors
from rec_core.train import TrainConfig


def _mf_run(root: Path) -> tuple[bytes, dict]:
    """A tiny MF run on the CPU: (its model file's bytes, its results)."""
    cfg = RunConfig(
        data=DataConfig(name="synthetic", synthetic_users=120, synthetic_items=90),
        model=MFConfig(embed_dim=8),
        seed=3,
        train=TrainConfig(epochs=2, batch_size=512, device="cpu", threads=1),
    )
    run = start_run(cfg, RunStore(root))
    results = execute_run(run)
    return (run.path / "model.safetensors").read_bytes(), results


def test_two_identical_mf_runs_write_byte_identical_model_files(tmp_path: Path) -> None:
    first, res_a = _mf_run(tmp_path / "a")
    second, res_b = _mf_run(tmp_path / "b")
    assert res_a["run_id"] != res_b["run_id"]  # different runs: nothing run-specific in the file
    assert first == second
    recorded = [r["files"]["model.safetensors"]["sha256"] for r in (res_a, res_b)]
    assert recorded[0] == recorded[1] == hashlib.sha256(first).hexdigest()


def test_write_tensors_is_canonical_and_readable(tmp_path: Path) -> None:
    tensors = {
        "w": torch.arange(6, dtype=torch.float32).reshape(2, 3),
        "mask": torch.tensor([True, False, True]),
        "ids": torch.tensor([7, 8], dtype=torch.int64),
        "scalar": torch.tensor(1.5),
        "empty": torch.zeros(0, 4),
        "half": torch.tensor([0.5, -2.0], dtype=torch.bfloat16),
    }
    meta = {"model": "mf", "dataset": "x", "n_users": "5", "n_items": "7", "rec_core_checkpoint": "1"}
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    write_tensors(a, tensors, meta)
    # Other insertion orders of the same tensors and metadata: the same bytes.
    write_tensors(b, dict(reversed(list(tensors.items()))), dict(reversed(list(meta.items()))))
    assert a.read_bytes() == b.read_bytes()
    with safe_open(str(a), framework="pt") as f:
        assert f.metadata() == meta
        assert set(f.keys()) == set(tensors)
        for name, tensor in tensors.items():
            assert torch.equal(f.get_tensor(name), tensor), name
