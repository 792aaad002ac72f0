"""`tune`: the Optuna study over several seeds (resume, pruning, multi-seed objective, bad space)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from rec_core.cli import EXIT_BAD_INPUT, EXIT_OK, main
from rec_core.data import DataConfig
from rec_core.errors import ConfigError
from rec_core.experiment import RunConfig
from rec_core.runs import RunStore, validate_run_id
from rec_core.train import TrainConfig
from rec_core.tune import (
    SeedResult,
    TuneSettings,
    make_objective,
    open_study,
    optimize,
    parse_space,
    study_path,
)

SYN = ["--dataset", "synthetic", "--synthetic-users", "80", "--synthetic-items", "90"]
BASE = RunConfig(
    data=DataConfig(name="synthetic", synthetic_users=80, synthetic_items=90),
    train=TrainConfig(epochs=1, batch_size=256, threads=1),
)


def _space(tmp_path: Path, text: str, name: str = "space.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _tune(tmp_path: Path, space: str, *extra: str) -> int:
    runs = str(tmp_path / "runs")
    flags = ["--epochs", "1", "--batch-size", "256", "--threads", "1", "--embed-dim", "8"]
    return main(["tune", *SYN, *flags, "--runs-dir", runs, "--space", space, "--study", "s", "--quiet", *extra])


def _run_ids(tmp_path: Path) -> set[str]:
    return set(RunStore(tmp_path / "runs").run_ids())


def test_the_objective_is_the_mean_of_the_seeds_validation_and_a_rerun_continues(tmp_path: Path) -> None:
    space = _space(tmp_path, "[lr]\nlow = 1e-3\nhigh = 5e-2\nlog = true\n")
    assert _tune(tmp_path, space, "--trials", "2", "--seeds", "0", "1") == EXIT_OK
    store = RunStore(tmp_path / "runs")
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{study_path(tmp_path / 'runs', 's')}")
    first = study.get_trials()
    assert [t.state for t in first] == [TrialState.COMPLETE] * 2
    for t in first:
        values = []
        for seed, run_id in t.user_attrs["runs"].items():
            run = store.get(run_id)
            config = run.config()
            assert config["seed"] == int(seed) and config["train"]["lr"] == t.params["lr"]
            results = run.results()
            assert results is not None
            valid = results["valid"]["primary"]["metrics"]["ndcg@10"]  # what the run folder records
            assert t.user_attrs["valid"][seed] == valid
            values.append(valid)
        assert sorted(t.user_attrs["runs"]) == ["0", "1"]
        assert t.value == pytest.approx(sum(values) / 2, abs=1e-15)
    runs_before = _run_ids(tmp_path)
    assert len(runs_before) == 4  # the studies folder beside them is no run
    with pytest.raises(ConfigError, match="reserved"):
        validate_run_id("studies")
    # The same command with a larger total runs only the missing trial; the first two are kept.
    assert _tune(tmp_path, space, "--trials", "3", "--seeds", "0", "1") == EXIT_OK
    after = optuna.load_study(study_name="s", storage=f"sqlite:///{study_path(tmp_path / 'runs', 's')}").get_trials()
    assert len(after) == 3 and [t.user_attrs["runs"] for t in after[:2]] == [t.user_attrs["runs"] for t in first]
    assert len(_run_ids(tmp_path) - runs_before) == 2
    # Once the study holds its trials, the same command trains nothing.
    runs_now = _run_ids(tmp_path)
    assert _tune(tmp_path, space, "--trials", "3", "--seeds", "0", "1") == EXIT_OK
    assert _run_ids(tmp_path) == runs_now
    report = json.loads((tmp_path / "runs" / "studies" / "s.json").read_text(encoding="utf-8"))
    best = max(after, key=lambda t: t.value or -math.inf)
    assert report["best"]["trial"] == best.number and report["best"]["valid"] == best.user_attrs["valid"]
    assert "--config" in report["reproduce"][0] and report["reproduce"][0].endswith("--seed 0")
    # The printed command reproduces the best run (same config: the same validation value).
    best_config = tmp_path / "runs" / "studies" / "s-best.json"
    assert main(["train", "--config", str(best_config), "--runs-dir", str(tmp_path / "again"), "--quiet"]) == 0
    (again,) = RunStore(tmp_path / "again").list()
    res = RunStore(tmp_path / "again").get(again.run_id).results()
    assert res is not None and res["valid"]["primary"]["metrics"]["ndcg@10"] == best.user_attrs["valid"]["0"]


def test_a_study_with_other_settings_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    space = _space(tmp_path, "[lr]\nlow = 1e-3\nhigh = 5e-2\n")
    assert _tune(tmp_path, space, "--trials", "1", "--seeds", "0") == EXIT_OK
    runs = _run_ids(tmp_path)
    assert _tune(tmp_path, space, "--trials", "2", "--seeds", "0", "1") == EXIT_BAD_INPUT
    assert "was made with another seeds" in capsys.readouterr().err
    assert _run_ids(tmp_path) == runs


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        ("[no_such_field]\nlow = 1\nhigh = 2\n", "no_such_field", "unknown parameter"),
        ("[lr]\nlow = -1.0\nhigh = 0.1\n", "lr", "is not a value train.lr can take"),
        ("[lr]\nlow = 0.1\nhigh = 0.01\n", "lr", "low must be below high"),
        ("[embed_dim]\nlow = 4.5\nhigh = 16\n", "embed_dim", "must be an integer"),
        ("[item_bias]\nlow = 0\nhigh = 1\n", "item_bias", "give its values as choices"),
        ("[lr]\nlow = 1e-3\nhigh = 0.1\nscale = 2\n", "lr", "unknown key 'scale'"),
        ("[seed]\nchoices = [1, 2]\n", "seed", "unknown parameter"),
    ],
)
def test_a_bad_space_is_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, field: str, says: str
) -> None:
    assert _tune(tmp_path, _space(tmp_path, text), "--trials", "1") == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith(f"error: {field}: ") and says in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # no run folder, no study


def test_space_names_resolve_to_config_fields() -> None:
    params = parse_space(
        {"train.lr": {"low": 1e-4, "high": 1e-2, "log": True}, "embed-dim": {"choices": [8, 16]}}, BASE
    )
    assert [(p.section, p.field, p.kind) for p in params] == [
        ("train", "lr", "float"),
        ("model", "embed_dim", "categorical"),
    ]
    with pytest.raises(ConfigError) as err:
        parse_space({"lr": {"low": 1e-3, "high": 1e-2}, "train.lr": {"choices": [0.1]}}, BASE)
    assert err.value.field == "train.lr"


def _stub_settings(name: str, **kw: Any) -> TuneSettings:
    return TuneSettings(name=name, seeds=kw.pop("seeds", (0, 1, 2)), **kw)


def test_a_trial_below_the_median_is_pruned_and_recorded_so(tmp_path: Path) -> None:
    # A stub trainer through the same study and objective: validation peaks at lr 1e-3, so
    # trials far from it are clearly worse on their first seed.
    params = parse_space({"lr": {"low": 1e-6, "high": 1.0, "log": True}}, BASE)
    calls: list[tuple[float, int]] = []

    def train_one(config: RunConfig) -> SeedResult:
        calls.append((config.train.lr, config.seed))
        return SeedResult(f"r{len(calls)}", 1.0 - abs(math.log10(config.train.lr) + 3) / 6 + 0.01 * config.seed)

    settings = _stub_settings("p", trials=12, prune_startup=2)
    study = open_study(study_path(tmp_path, "p"), settings)
    optimize(study, make_objective(BASE, params, settings, train_one), settings)
    trials = study.get_trials()
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    assert len(trials) == 12 and pruned
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    for t in pruned:
        step = max(t.intermediate_values)
        assert len(t.user_attrs["valid"]) == step + 1 < 3  # stopped before its last seed
        earlier = [c.intermediate_values[step] for c in done if c.number < t.number and step in c.intermediate_values]
        assert t.intermediate_values[step] < sorted(earlier)[len(earlier) // 2]  # below the median then
    assert len(calls) == 3 * len(done) + sum(len(t.user_attrs["valid"]) for t in pruned)


def test_an_interrupted_or_killed_trial_is_tried_again_with_its_parameters(tmp_path: Path) -> None:
    params = parse_space({"lr": {"low": 1e-4, "high": 1e-1, "log": True}}, BASE)
    settings = _stub_settings("i", trials=2, seeds=(0, 1))
    seen: list[tuple[float, int]] = []

    def interrupted_on_second_seed(config: RunConfig) -> SeedResult:
        seen.append((config.train.lr, config.seed))
        if config.seed == 1:
            raise KeyboardInterrupt
        return SeedResult("r", 0.5)

    path = study_path(tmp_path, "i")
    with pytest.raises(KeyboardInterrupt):
        optimize(
            open_study(path, settings), make_objective(BASE, params, settings, interrupted_on_second_seed), settings
        )
    # A trial left RUNNING by a process that died (killed) has a pid that no longer exists.
    study = open_study(path, settings)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    killed = study.ask({"lr": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)})
    killed.set_user_attr("pid", int(gone.stdout))

    def fine(config: RunConfig) -> SeedResult:
        seen.append((config.train.lr, config.seed))
        return SeedResult("r", 0.5)

    optimize(study, make_objective(BASE, params, settings, fine), settings)
    trials = study.get_trials()
    retries = {t.user_attrs["retry_of"]: t for t in trials if "retry_of" in t.user_attrs}
    assert sorted(retries) == [0, killed.number]
    assert trials[0].state == TrialState.FAIL and trials[killed.number].state == TrialState.FAIL
    for number, retry in retries.items():
        assert retry.state == TrialState.COMPLETE and retry.params == trials[number].params
    assert sum(t.state == TrialState.COMPLETE for t in trials) == 2  # the total counts finished trials
    # A third invocation queues nothing again and trains nothing.
    n = len(seen)
    optimize(open_study(path, settings), make_objective(BASE, params, settings, fine), settings)
    assert len(seen) == n and len(open_study(path, settings).get_trials()) == len(trials)


def test_a_failed_trial_counts_and_the_study_goes_on(tmp_path: Path) -> None:
    params = parse_space({"lr": {"low": 1e-4, "high": 1e-1, "log": True}}, BASE)
    settings = _stub_settings("f", trials=3, seeds=(0,))
    calls: list[int] = []

    def fails_once(config: RunConfig) -> SeedResult:
        calls.append(1)
        if len(calls) == 1:
            raise ConfigError("embed_dim", "too large for this data")
        return SeedResult("r", 0.5)

    study = open_study(study_path(tmp_path, "f"), settings)
    optimize(study, make_objective(BASE, params, settings, fails_once), settings)
    assert [t.state for t in study.get_trials()] == [TrialState.FAIL, TrialState.COMPLETE, TrialState.COMPLETE]


def test_without_optuna_tune_says_how_to_install_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)  # as on a plain app install
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"lr": {"low": 1e-3, "high": 1e-2, "log": True}}))
    argv = ["tune", "--dataset", "synthetic", "--model", "mf", "--space", str(space), "--runs-dir", str(tmp_path / "r")]
    assert main(argv) == EXIT_BAD_INPUT
    assert "needs Optuna: pip install 'rec-core[tune]'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
