"""Bad input and unexpected failures reach the user as one line, never a traceback.

Bad input runs `main(argv)` in this process (exit code and stderr as the CLI gives them);
tests/test_cli.py has the one bad-input case run as a real `python -m rec_core` process, and
the closed pipe below needs one too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rec_core.cli import main
from rec_core.errors import ConfigError
from rec_core.experiment import load_run_model
from rec_core.runs import RunStore
from rec_core.runs.store import check_store_root
from tests.faults.util import REPO, SYN, env, one_error_line
from tests.helpers import synthetic

TRAIN = ["train", *SYN, "--model", "mf", "--embed-dim", "8", "--epochs", "2", "--batch-size", "256", "--quiet"]


def _no_run_folder(runs: Path) -> bool:
    return not runs.exists() or not [p for p in runs.iterdir() if not p.name.startswith(".")]


def _refused(capsys: pytest.CaptureFixture, *args: str) -> str:
    """`main(ARGS)` in this process: exit code 2 and the one error line (returned)."""
    code = main(list(args))
    line = one_error_line(capsys.readouterr().err)
    assert code == 2, line
    return line


def test_runs_dir_that_is_a_file_or_under_a_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    for runs_dir, words in [(afile, "is a file"), (afile / "runs", "which is a file")]:
        line = _refused(capsys, *TRAIN, "--runs-dir", str(runs_dir))
        assert "runs_dir" in line and words in line
        for command in (["runs"], ["compare", "a", "b"]):
            assert "runs_dir" in _refused(capsys, *command, "--runs-dir", str(runs_dir))
    assert afile.read_text(encoding="utf-8") == "x"


def test_runs_dir_not_writable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As root every folder is writable, so the permission check is exercised directly.
    monkeypatch.setattr(os, "access", lambda *a, **k: False)
    with pytest.raises(ConfigError, match="not writable") as info:
        check_store_root(tmp_path / "runs")
    assert info.value.field == "runs_dir"


def test_runs_dir_not_writable_for_real(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # A real read-only folder. Root may write anywhere (CI runs as root), so there the folder is
    # a read-only tmpfs mount (EROFS binds root too); other users get a 0555 folder.
    locked = tmp_path / "locked"
    locked.mkdir()
    mounted = False
    if os.geteuid() == 0:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(locked)], capture_output=True, text=True
        )
        if done.returncode != 0:  # never a silent skip in CI: there it must work
            message = f"cannot mount a read-only tmpfs as root: {done.stderr.strip()}"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(message)
            pytest.skip(message)
        mounted = True
    else:
        locked.chmod(0o555)
    try:
        assert "not writable" in _refused(capsys, *TRAIN, "--runs-dir", str(locked / "runs"))
        assert not (locked / "runs").exists()
    finally:
        if mounted:
            subprocess.run(["umount", str(locked)], check=False)
        else:
            locked.chmod(0o755)


def test_read_only_commands_create_nothing_and_say_the_folder_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    missing = tmp_path / "typo" / "runs"
    for command in (["runs"], ["compare", "a", "b"], ["execute", "a"]):
        assert "does not exist" in _refused(capsys, *command, "--runs-dir", str(missing))
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"seed": 1, "label": "caf\xe9"}', "not UTF-8"),
        (b'{"seed": "abc"}', "seed: must be an integer"),
        (b'{"seed": 1.7}', "seed: must be an integer"),
        (b'{"seed": true}', "seed: must be an integer"),
    ],
)
def test_bad_config_files_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture, content: bytes, words: str
) -> None:
    cfg = tmp_path / "run.json"
    cfg.write_bytes(content)
    assert words in _refused(capsys, *TRAIN, "--config", str(cfg), "--runs-dir", str(tmp_path / "runs"))
    assert _no_run_folder(tmp_path / "runs")


def test_seed_flag_refuses_fractions(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    for seed in ("1.7", "abc"):
        assert "seed" in _refused(capsys, *TRAIN, "--seed", seed, "--runs-dir", str(tmp_path / "runs"))
    assert _no_run_folder(tmp_path / "runs")


def test_huge_embed_dim_is_refused_before_the_run_folder_exists(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    line = _refused(
        capsys,
        "train",
        "--dataset",
        "synthetic",
        "--synthetic-users",
        "2000",
        "--synthetic-items",
        "1000",
        "--model",
        "mf",
        "--embed-dim",
        str(10**7),
        "--epochs",
        "1",
        "--quiet",
        "--runs-dir",
        str(tmp_path / "runs"),
    )
    assert "embed_dim" in line and "GB" in line and "lower embed_dim" in line
    assert _no_run_folder(tmp_path / "runs")


def test_unexpected_exception_is_one_line_exit_1_with_the_traceback_in_the_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import rec_core.pipeline as pipeline

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("something no one expected")

    monkeypatch.setattr(pipeline, "fit_schedule", boom)
    assert main([*TRAIN, "--runs-dir", str(tmp_path), "--run-id", "x"]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "RuntimeError: something no one expected" in line and "traceback in its status.json" in line
    st = RunStore(tmp_path).get("x").status()
    assert st["state"] == "failed" and "Traceback" in st["traceback"] and "boom" in st["traceback"]


def test_checkpoint_of_another_dataset_is_a_clear_error(tmp_path: Path) -> None:
    assert main([*TRAIN, "--runs-dir", str(tmp_path), "--run-id", "m"]) == 0
    run = RunStore(tmp_path).get("m")
    with pytest.raises(ConfigError, match="trained with 120 users") as info:
        load_run_model(run, data=synthetic(150, 100))
    assert info.value.field == "data"


@pytest.mark.slow  # > 10 s on a 2-core machine: CI runs it, a plain local run leaves it out
def test_runs_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs")
    for i in range(500):  # ~90 kB of listing: more than a pipe buffer
        store.create({"model": {"name": "mf"}}, run_id=f"r{i:03d}-" + "x" * 120)
    cmd = f"{sys.executable} -m rec_core runs --runs-dir {store.root} | head -n 1"
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=env(tmp_path), cwd=REPO, timeout=120)
    assert proc.stdout.startswith("run ") and proc.stderr == "", proc.stderr


@pytest.mark.parametrize(
    ("flags", "field"),
    [
        (["--reg-weight", "inf"], "reg_weight"),
        (["--reg-weight", "nan"], "reg_weight"),
        (["--weight-decay", "nan"], "weight_decay"),
        (["--init-std", "nan"], "init_std"),
        (["--init-std", "inf"], "init_std"),
        (["--grad-clip", "nan"], "grad_clip"),
        (["--seed", str(2**63)], "seed"),
        (["--seed", str(2**64 + 1)], "seed"),
    ],
)
def test_numbers_that_cannot_train_are_refused_before_the_run_folder_exists(
    tmp_path: Path, capsys: pytest.CaptureFixture, flags: list[str], field: str
) -> None:
    # Before: NaN / inf passed `value < 0` and the run failed later ("lower the learning rate"),
    # and a seed over 2**63 left a failed run folder behind.
    line = _refused(capsys, *TRAIN, *flags, "--runs-dir", str(tmp_path / "runs"))
    assert line.startswith(f"error: {field}:"), line
    assert _no_run_folder(tmp_path / "runs")


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"contrastive_weight": float("inf")}, "contrastive_weight", "finite number >= 0"),
        ({"temperature": float("nan")}, "temperature", "finite number > 0"),
        ({"temperature": 0.0}, "temperature", "finite number > 0"),
        ({"init_std": float("nan")}, "init_std", "finite number > 0"),
        ({"reg_weight": float("inf")}, "reg_weight", "finite number >= 0"),
    ],
)
def test_text_model_numbers_are_checked_at_config_time(fields: dict[str, Any], field: str, words: str) -> None:
    from rec_core.models.enhanced import EnhancedConfig

    with pytest.raises(ConfigError, match=words) as info:
        EnhancedConfig(backbone="tiny-gpt2", max_length=32, embed_dim=16, n_heads=2, **fields)
    assert info.value.field == field


def test_device_cuda_without_cuda_is_refused_before_the_run_folder_exists(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    line = _refused(capsys, *TRAIN, "--device", "cuda", "--runs-dir", str(tmp_path / "runs"))
    assert "device" in line and "no CUDA device" in line
    assert _no_run_folder(tmp_path / "runs")


def test_warm_start_from_a_damaged_checkpoint_is_refused_before_the_run_folder_exists(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    runs = tmp_path / "runs"
    assert main([*TRAIN, "--embed-dim", "16", "--runs-dir", str(runs), "--run-id", "mf"]) == 0
    checkpoint = runs / "mf" / "model.safetensors"
    data = bytearray(checkpoint.read_bytes())
    data[-8:] = b"\xff" * 8  # same size, other bytes: only the checksum sees it
    checkpoint.write_bytes(bytes(data))
    text = ["--model", "enhanced", "--backbone", "tiny-gpt2", "--max-length", "32", "--n-heads", "2"]
    line = _refused(capsys, *TRAIN, *text, "--embed-dim", "16", "--init-from-run", "mf", "--runs-dir", str(runs))
    assert "init_from_run" in line and "'mf'" in line and "checksum" in line
    assert sorted(p.name for p in runs.iterdir() if not p.name.startswith(".")) == ["mf"]


@pytest.mark.parametrize(
    ("monitor", "words"),
    [
        ("ndcg@50", "no cutoff 50"),  # validation computes ks 5, 10, 20 only
        ("foo@10", "unknown metric 'foo'"),
        ("NDCG@10", "names are lower case: ndcg@10"),  # refused, not folded: one spelling everywhere
        ("ndcg", "not a validation metric"),
    ],
)
def test_unknown_monitor_is_refused_at_config_time(
    tmp_path: Path, capsys: pytest.CaptureFixture, monitor: str, words: str
) -> None:
    # Before: every validation read NaN, no epoch was selected, the last weights were tested
    # and the run said "early-stopped after 3 epochs".
    line = _refused(capsys, *TRAIN, "--monitor", monitor, "--runs-dir", str(tmp_path / "runs"))
    assert line.startswith("error: monitor:") and words in line and "allowed: name@k" in line
    assert "hit, ndcg, recall, mrr, precision" in line
    assert _no_run_folder(tmp_path / "runs")


def test_monitor_must_be_a_metric_the_eval_config_computes() -> None:
    from rec_core.evaluate import EvalConfig
    from rec_core.experiment import RunConfig
    from rec_core.train import TrainConfig

    with pytest.raises(ConfigError, match="k one of 5, 20") as info:
        RunConfig(train=TrainConfig(monitor="ndcg@10"), eval=EvalConfig(ks=(5, 20)))
    assert info.value.field == "monitor"
    with pytest.raises(ConfigError, match="unknown metric 'mrr'"):
        RunConfig(train=TrainConfig(monitor="mrr@10"), eval=EvalConfig(metrics=("ndcg",)))
    RunConfig(train=TrainConfig(monitor="hit@20"))  # a metric validation reports: accepted
