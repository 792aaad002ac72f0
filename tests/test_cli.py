"""The CLI end to end: a run folder that rebuilds its model, compare, runs, and bad input."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rec_core.cli import (
    EXIT_BAD_INPUT,
    EXIT_CLOSED_PIPE,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    build_parser,
    config_from_args,
    main,
)
from rec_core.evaluate import evaluate
from rec_core.experiment import load_run_model, prepare_data, start_run
from rec_core.runs import RunStore
from tests.faults.util import one_error_line

SYN = ["--dataset", "synthetic", "--synthetic-users", "120", "--synthetic-items", "90"]


def _train(runs: Path, *extra: str) -> int:
    return main(["train", *SYN, "--runs-dir", str(runs), "--quiet", "--epochs", "3", "--batch-size", "256", *extra])


def test_train_writes_a_complete_run_that_reloads_identically(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert _train(tmp_path, "--model", "mf", "--embed-dim", "16", "--run-id", "mf-a") == 0
    out = capsys.readouterr().out
    assert "ndcg@10" in out and "run folder" in out
    assert "test NDCG@10" in out and "finished: all 3 epochs; best epoch" in out
    run = RunStore(tmp_path).get("mf-a")
    assert run.status()["state"] == "done"
    assert len(run.history()) == 3
    results = run.results()
    assert results is not None
    assert set(results["test"]["primary"]["metrics"]) >= {"ndcg@10", "hit@10", "recall@20", "mrr@5"}
    # The random-ranking reference is stored and printed next to the test metrics.
    rand = results["test"]["primary"]["random"]
    assert set(rand) == set(results["test"]["primary"]["metrics"]) and 0 < rand["ndcg@10"] < 1
    assert f"random {rand['ndcg@10']:.4f}" in out and "random (test, expected)" in out
    assert results["environment"]["torch"]
    # The training-code fingerprint: two runs are the same experiment only when it matches.
    from rec_core.runs.environment import code_fingerprint

    assert results["environment"]["code"] == code_fingerprint() and len(code_fingerprint()) == 16
    assert {"cold", "head"} & set(results["test"]["primary"]["segments"])
    per_user = run.read_table("per_user_test")
    assert len(per_user) == results["test"]["primary"]["n_users"]
    # The checkpoint rebuilds a model that scores exactly as the run reported.
    model, config = load_run_model(run)
    data, split = prepare_data(config)
    again = evaluate(model, data, split, "test").metrics
    assert again["ndcg@10"] == pytest.approx(results["test"]["primary"]["metrics"]["ndcg@10"], abs=1e-12)


def test_same_seed_reproduces_metrics(tmp_path: Path) -> None:
    for rid in ("r1", "r2"):
        assert _train(tmp_path, "--model", "mf", "--embed-dim", "16", "--seed", "7", "--run-id", rid) == 0
    store = RunStore(tmp_path)
    m1 = store.get("r1").results()["test"]["primary"]["metrics"]  # type: ignore[index]  # a done run has results
    m2 = store.get("r2").results()["test"]["primary"]["metrics"]  # type: ignore[index]  # a done run has results
    assert m1 == m2


def test_config_file_and_flags(tmp_path: Path) -> None:
    cfg = tmp_path / "run.toml"
    cfg.write_text('[model]\nname = "mf"\nembed_dim = 8\n[train]\nlr = 0.01\n', encoding="utf-8")
    assert _train(tmp_path / "runs", "--config", str(cfg), "--lr", "0.02", "--run-id", "cfg") == 0
    saved = RunStore(tmp_path / "runs").get("cfg").config()
    assert saved["model"]["embed_dim"] == 8 and saved["train"]["lr"] == 0.02


def test_compare_and_runs_listing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert _train(tmp_path, "--model", "pop", "--run-id", "pop") == 0
    assert _train(tmp_path, "--model", "mf", "--embed-dim", "16", "--run-id", "mf") == 0
    capsys.readouterr()
    assert main(["compare", "pop", "mf", "--runs-dir", str(tmp_path), "--n-boot", "200"]) == 0
    out = capsys.readouterr().out
    assert "ndcg@10" in out and "95% CI" in out and "p" in out
    assert main(["runs", "--runs-dir", str(tmp_path)]) == 0
    listing = capsys.readouterr().out
    assert "pop" in listing and "mf" in listing and "done" in listing
    assert "nan" not in listing  # the listing shows each run's NDCG@10 and Hit@10
    assert "test NDCG@10" in listing and "test Hit@10" in listing
    assert "finished: fitted" in listing and "finished: all 3 epochs" in listing


def test_a_run_stopped_before_its_first_epoch_reports_no_metrics(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    parser_args = build_parser().parse_args(["train", *SYN, "--model", "mf", "--epochs", "3"])
    run = start_run(config_from_args(parser_args), RunStore(tmp_path), "early")
    run.request_stop()
    assert main(["execute", "early", "--runs-dir", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "no epoch completed" in out and "no test metrics" in out and "test NDCG@10" not in out
    assert main(["runs", "--runs-dir", str(tmp_path)]) == 0
    listing = capsys.readouterr().out
    assert "stopped by the user: no epoch completed" in listing and "nan" not in listing


def test_select_best_flag(tmp_path: Path) -> None:
    args = build_parser().parse_args(["train", *SYN, "--select-best", "any"])
    assert config_from_args(args).train.select_best == "any"
    assert config_from_args(build_parser().parse_args(["train", *SYN])).train.select_best == "any"
    args = build_parser().parse_args(["train", *SYN, "--select-best", "final_phase"])
    assert config_from_args(args).train.select_best == "final_phase"


BAD_INPUT = [
    (["--dataset", "netflix"], "name"),
    (["--lr", "-0.1"], "lr"),
    (["--lr", "abc"], "lr"),
    (["--ks", "0,10"], "ks"),
    (["--split-ratios", "0.5,0.3,0.3"], "split_ratios"),
    (["--run-id", "../escape"], "run_id"),
    (["--run-id", "a/b"], "run_id"),
    (["--model", "enhanced", "--use-peft", "true", "--use-cache", "true", "--backbone", "tiny-gpt2"], "use_peft"),
    (["--model", "enhanced", "--n-heads", "3", "--backbone", "tiny-gpt2"], "n_heads"),
    (["--model", "mf", "--use-cache", "true"], "use_cache"),
    (["--select-best", "best"], "select_best"),
]


def _refused(runs: Path, capsys: pytest.CaptureFixture, args: list[str]) -> str:
    """Run `train ARGS` in this process; check exit code 2, one error line and no run folder."""
    base = ["train", "--runs-dir", str(runs), "--quiet", "--epochs", "1"]
    code = main(base + (args if "--dataset" in args else [*SYN, *args]))
    line = one_error_line(capsys.readouterr().err)
    assert code == EXIT_BAD_INPUT == 2, line
    assert not runs.exists() or not [p for p in runs.iterdir() if not p.name.startswith(".")]
    return line


@pytest.mark.parametrize(("args", "field"), BAD_INPUT)
def test_bad_input_one_line_exit_2_no_run_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str], field: str
) -> None:
    assert field in _refused(tmp_path / "runs", capsys, args)


def test_a_min_rating_above_every_rating_names_min_rating(
    tmp_path: Path, capsys: pytest.CaptureFixture, ml100k_dir: Path
) -> None:
    line = _refused(
        tmp_path / "runs", capsys, ["--dataset", "ml-100k", "--data-dir", str(ml100k_dir.parent), "--min-rating", "9"]
    )
    assert line.startswith("error: min_rating:") and "ratings range 1..5" in line


@pytest.mark.slow  # > 10 s on a 2-core machine: CI runs it, a plain local run leaves it out
def test_bad_input_in_a_real_process(tmp_path: Path) -> None:
    # The one bad-input case that runs `python -m rec_core` for real: exit status, stderr and
    # no traceback as a shell sees them (the others call main() in this process).
    runs = tmp_path / "runs"
    env = {**os.environ, "REC_CORE_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run(
        [sys.executable, "-m", "rec_core", "train", "--runs-dir", str(runs), "--quiet", *SYN, "--lr", "abc"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert "lr" in one_error_line(proc.stderr) and proc.stdout == ""
    assert not runs.exists() or not [p for p in runs.iterdir() if not p.name.startswith(".")]


def test_failed_run_records_its_error(tmp_path: Path) -> None:
    # lr so large the loss overflows: the run folder must say failed, with the reason.
    code = _train(
        tmp_path,
        "--model",
        "mf",
        "--embed-dim",
        "16",
        "--lr",
        "1e30",
        "--init-std",
        "10",
        "--epochs",
        "20",
        "--run-id",
        "boom",
    )
    status = RunStore(tmp_path).get("boom").status()
    assert code == EXIT_FAILED == 1  # a run that started and failed
    assert status["state"] == "failed" and "loss became" in status["error"]


def test_compare_groups_of_runs_paired_by_seed(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    for seed in (0, 1):
        assert _train(tmp_path, "--model", "pop", "--seed", str(seed), "--run-id", f"pop{seed}") == 0
        assert _train(tmp_path, "--model", "mf", "--embed-dim", "16", "--seed", str(seed), "--run-id", f"mf{seed}") == 0
    assert _train(tmp_path, "--model", "mf", "--embed-dim", "16", "--split", "loo", "--run-id", "mf-loo") == 0
    capsys.readouterr()
    common = ["--runs-dir", str(tmp_path), "--n-boot", "200", "--metrics", "ndcg@10,hit@10"]
    assert main(["compare", "--a", "pop0", "pop1", "--b", "mf1", "mf0", *common]) == 0
    out = capsys.readouterr().out
    assert "A = pop0, pop1 (reference)" in out and "in 2 seed(s) (0, 1)" in out and "t-test over the per-seed" in out
    assert "random ranking (expected, mean over A's seeds): ndcg@10 0." in out and "B x random" in out
    assert "verdict: " in out and "note: Paired over" in out and "p Holm" in out and "p users" in out
    assert main(["compare", "pop0,pop1", "mf0,mf1", *common]) == 0  # comma-separated positional lists
    assert capsys.readouterr().out.split("verdict")[1] == out.split("verdict")[1]  # same seeds, same numbers
    # One run a side: no verdict (seed noise untested), however large the user-level evidence.
    assert main(["compare", "pop0", "mf0", *common]) == 0
    single = capsys.readouterr().out
    assert "in 1 seed(s) (0)" in single and "seed noise untested" in single
    assert "untested (1 seed: run >= 3)" in single and "better" not in single.split("verdict:")[1].split("\n")[0]
    # Refusals: one line, exit code 2.
    for argv, words in [
        (["pop0", "mf1"], "no seed in common"),
        (["pop0", "mf-loo"], "split loo"),
        (["--a", "pop0", "pop1", "--b", "mf0", "mf-loo"], "different datasets or splits"),
        (["pop0", "--a", "pop1", "--b", "mf0"], "not both"),
        (["--a", "pop0", "mf0", "--b", "mf1"], "both have seed 0"),
    ]:
        assert main(["compare", *argv, "--runs-dir", str(tmp_path)]) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error:") and words in err[0], (argv, err)


# -- exit codes: one rule, in --help and docs/usage.md -------------------------------------------
def test_exit_codes_are_one_rule_in_help_and_readme(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    help_text = capsys.readouterr().out
    epilog = help_text[help_text.index("exit codes") :]
    in_help = {int(m) for m in re.findall(r"^  (\d+) {2,}", epilog, flags=re.M)}
    readme = (Path(__file__).resolve().parents[1] / "docs" / "usage.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Command line") :]
    in_readme = {int(m) for m in re.findall(r"^\| (\d+) +\|", section[: section.index("\n## ")], flags=re.M)}
    assert in_help == in_readme == {EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_CLOSED_PIPE}
    assert (EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED) == (0, 1, 2, 130)


def test_a_run_interrupted_by_ctrl_c_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import rec_core.pipeline as pipeline

    def ctrl_c(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "fit_schedule", ctrl_c)
    assert _train(tmp_path, "--model", "mf", "--embed-dim", "8", "--run-id", "int") == EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert err.startswith("stopped: int") and "Traceback" not in err
    assert RunStore(tmp_path).get("int").status()["state"] == "stopped"


class PanicException(BaseException):
    """What a Rust panic in tokenizers or safetensors raises through pyo3: not an Exception."""


@pytest.mark.parametrize(
    "error",
    [RuntimeError("weights in an unknown layout"), PanicException("index out of bounds")],
    ids=["exception", "pyo3-panic"],
)
def test_an_unexpected_error_loading_a_backbone_is_one_line_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, error: BaseException
) -> None:
    import rec_core.text.encoder as encoder

    def broken(*_a: object, **_k: object) -> None:
        raise error

    monkeypatch.setattr(encoder, "load_backbone", broken)
    code = _train(
        tmp_path,
        "--model",
        "enhanced",
        "--backbone",
        "tiny-gpt2",
        "--max-length",
        "16",
        "--n-heads",
        "2",
        "--embed-dim",
        "8",
        "--epochs",
        "1",
        "--run-id",
        "bb",
    )
    line = one_error_line(capsys.readouterr().err)
    assert code == EXIT_FAILED
    assert f"{type(error).__name__}: {error}" in line and "run bb marked failed" in line
    status = RunStore(tmp_path).get("bb").status()
    assert status["state"] == "failed" and str(error) in status["error"] and "Traceback" in status["traceback"]
