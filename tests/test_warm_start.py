"""Warm start from a finished MF run: MF continued (the equal-budget control) starts exactly
from the MF run's weights; `init_from_run=auto` takes only intact, fully trained MF runs of the
same MF setting, refuses to guess between differing ones, and the run records its source."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from rec_core.cli import main
from rec_core.data import DataConfig
from rec_core.errors import ConfigError
from rec_core.experiment import RunConfig, execute_run, prepare_data, start_run
from rec_core.models.enhanced import EnhancedConfig
from rec_core.models.mf import MF, MFConfig
from rec_core.models.registry import build_model
from rec_core.runs import RunStore
from rec_core.train import TrainConfig, Trainer
from rec_core.warm_start import SMOKE_EPOCHS, apply_warm_start, resolve_warm_start

DATA = DataConfig(name="synthetic", synthetic_users=120, synthetic_items=90)
MF16 = MFConfig(embed_dim=16)
TRAINED = TrainConfig(epochs=SMOKE_EPOCHS, lr=0.01, batch_size=512, device="cpu", patience=0, threads=1)
CONTINUED = dataclasses.replace(MF16, init_from_run="auto")


def _mf_run(store: RunStore, run_id: str, train: TrainConfig = TRAINED, model: MFConfig = MF16, seed: int = 0) -> dict:
    return execute_run(start_run(RunConfig(data=DATA, model=model, train=train, seed=seed), store, run_id))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> RunStore:
    store = RunStore(tmp_path_factory.mktemp("runs"))
    _mf_run(store, "mf-s0")
    return store


def _fresh(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "runs")


def test_mf_continued_starts_exactly_from_the_mf_runs_weights(store: RunStore) -> None:
    config = RunConfig(data=DATA, model=dataclasses.replace(MF16, init_from_run="mf-s0"), train=TRAINED)
    data, split = prepare_data(config)
    torch.manual_seed(123)  # another init than the MF run's: every weight must come from its checkpoint
    model = build_model(config.model, data)
    assert isinstance(model, MF)
    assert apply_warm_start(model, config, store) == "mf-s0"
    state, _ = store.get("mf-s0").load_checkpoint()
    assert torch.equal(model.user_emb.weight, state["user_emb.weight"])
    assert torch.equal(model.item_emb.weight, state["item_emb.weight"])
    assert model.bias is not None and torch.equal(model.bias, state["bias"])
    trainer = Trainer(model, data, split, config.train, config.eval)
    trainer.fit(0)  # prepares the model (seen ids), no step
    mf_valid = (store.get("mf-s0").results() or {})["valid"]["primary"]["metrics"]
    assert trainer.validate() == mf_valid


def test_mf_continued_runs_end_to_end_and_keeps_the_mf_weights_unless_an_epoch_validates_better(
    store: RunStore,
) -> None:
    # A learning rate that wrecks MF: every epoch validates worse than the run it started from,
    # so the continued run restores the copied weights and tests exactly as that MF run.
    train = dataclasses.replace(TRAINED, epochs=2, lr=50.0)
    results = execute_run(start_run(RunConfig(data=DATA, model=CONTINUED, train=train), store))
    mf = store.get("mf-s0").results() or {}
    assert (results["best_epoch"], results["best_phase"]) == (0, "initial")
    assert results["test"]["primary"]["metrics"] == mf["test"]["primary"]["metrics"]
    assert results["warm_start_run"] == "mf-s0"
    record = results["warm_start"]
    assert record["run_id"] == "mf-s0" and record["requested"] == "auto"
    assert record["train"]["lr"] == TRAINED.lr and record["train"]["epochs"] == SMOKE_EPOCHS
    assert record["model"]["reg_weight"] == MF16.reg_weight and record["epochs_run"] == SMOKE_EPOCHS
    # The continued run is itself a finished MF run of seed 0, but never an `auto` candidate:
    # with it in the store, `auto` still finds the one trained-from-scratch MF run.
    assert resolve_warm_start(RunConfig(data=DATA, model=CONTINUED, train=TRAINED), store) == "mf-s0"


def test_auto_refuses_two_mf_runs_that_differ_in_training_settings(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    _mf_run(store, "mf-lr-high")
    _mf_run(store, "mf-lr-low", dataclasses.replace(TRAINED, lr=0.002))
    config = RunConfig(data=DATA, model=EnhancedConfig(backbone="tiny-gpt2", embed_dim=16, init_from_run="auto"))
    before = sorted(p.name for p in store.root.iterdir())
    with pytest.raises(ConfigError, match="init_from_run") as err:
        start_run(config, store)
    message = str(err.value)
    assert "ambiguous" in message and "mf-lr-high" in message and "mf-lr-low" in message
    assert "lr=0.01" in message and "lr=0.002" in message  # what differs, per candidate
    assert sorted(p.name for p in store.root.iterdir()) == before  # no run folder left behind
    # Named by its id, the same MF run is accepted.
    named = dataclasses.replace(config, model=dataclasses.replace(config.model, init_from_run="mf-lr-low"))
    assert resolve_warm_start(named, store) == "mf-lr-low"


def test_auto_takes_the_newest_of_identically_trained_runs(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    _mf_run(store, "mf-first")
    _mf_run(store, "mf-again")
    assert resolve_warm_start(RunConfig(data=DATA, model=CONTINUED), store) == "mf-again"


def test_auto_skips_smoke_runs_other_mf_settings_and_damaged_checkpoints(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    _mf_run(store, "mf-trained")
    # Newer, but each disqualified: a smoke run (fewer than SMOKE_EPOCHS epochs) with other
    # training settings, an MF of another reg_weight, and a run whose checkpoint was damaged
    # after it finished (same size, other bytes: its recorded SHA-256 no longer matches).
    _mf_run(store, "mf-smoke", dataclasses.replace(TRAINED, epochs=3))
    _mf_run(store, "mf-other-l2", model=dataclasses.replace(MF16, reg_weight=0.05))
    _mf_run(store, "mf-damaged")
    checkpoint = store.get("mf-damaged").path / "model.safetensors"
    raw = bytearray(checkpoint.read_bytes())
    raw[-8:] = bytes(8)  # the last tensor's bytes
    checkpoint.write_bytes(bytes(raw))
    assert store.get("mf-damaged").status()["state"] == "done"  # listed as done: only loading finds it
    assert resolve_warm_start(RunConfig(data=DATA, model=CONTINUED), store) == "mf-trained"


def test_auto_without_a_usable_run_names_what_it_left_out(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    _mf_run(store, "mf-smoke", dataclasses.replace(TRAINED, epochs=3))
    with pytest.raises(ConfigError, match="init_from_run") as err:
        resolve_warm_start(RunConfig(data=DATA, model=CONTINUED), store)
    message = str(err.value)
    assert "'auto' found no finished MF run" in message and f"at least {SMOKE_EPOCHS} epochs" in message
    assert "smoke: mf-smoke" in message
    # An explicit id may still name the smoke run: the choice is then the user's.
    explicit = RunConfig(data=DATA, model=dataclasses.replace(MF16, init_from_run="mf-smoke"))
    assert resolve_warm_start(explicit, store) == "mf-smoke"


def test_mf_init_from_run_is_checked() -> None:
    with pytest.raises(ConfigError, match="init_from_run"):
        MFConfig(init_from_run="../elsewhere")


# -- the equal-budget control from the command line ------------------------------------------------
SYN = ["--dataset", "synthetic", "--synthetic-users", "120", "--synthetic-items", "90", "--threads", "1"]


def test_cli_with_control_trains_mf_continued_from_the_same_mf_run(tmp_path: Path) -> None:
    runs = str(tmp_path / "runs")
    common = [*SYN, "--runs-dir", runs, "--quiet", "--embed-dim", "16", "--batch-size", "512"]
    assert main(["train", *common, "--model", "mf", "--epochs", str(SMOKE_EPOCHS), "--run-id", "mf0"]) == 0
    text = ["--model", "gpt2rec", "--backbone", "tiny-gpt2", "--max-length", "16", "--init-from-run", "auto"]
    argv = ["train", *common, *text, "--epochs", "2", "--lr", "0.003", "--patience", "7", "--run-id", "txt"]
    assert main([*argv, "--with-control"]) == 0
    store = RunStore(runs)
    text_run, control = store.get("txt"), store.get("txt-mf-continued")
    text_config, control_config = RunConfig.from_dict(text_run.config()), RunConfig.from_dict(control.config())
    assert control_config.model == dataclasses.replace(MF16, init_from_run="auto")
    assert control_config.train == text_config.train  # the same budget: epochs, lr, patience, batch size, ...
    assert (control_config.data, control_config.split, control_config.seed) == (
        text_config.data,
        text_config.split,
        text_config.seed,
    )
    for run in (text_run, control):
        assert (run.results() or {})["warm_start"]["run_id"] == "mf0"  # one source for both


@pytest.mark.parametrize(
    "extra",
    [
        ["--model", "mf"],
        ["--model", "gpt2rec", "--backbone", "tiny-gpt2"],
        ["--model", "mf", "--init-from-run", "auto"],
    ],
)
def test_cli_with_control_is_refused_without_a_warm_started_text_model(
    extra: list[str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    runs = tmp_path / "runs"
    assert main(["train", *SYN, "--runs-dir", str(runs), "--quiet", *extra, "--with-control"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: with_control:") and "warm-started" in err and len(err.splitlines()) == 1
    assert not runs.exists() or not any(runs.iterdir())  # nothing written


def test_a_named_mf_run_with_a_damaged_checkpoint_is_refused_before_the_run_folder_exists(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    _mf_run(store, "mf-damaged")
    checkpoint = store.get("mf-damaged").path / "model.safetensors"
    checkpoint.write_bytes(checkpoint.read_bytes()[:-8] + bytes(8))
    before = sorted(p.name for p in store.root.iterdir())
    config = RunConfig(data=DATA, model=dataclasses.replace(MF16, init_from_run="mf-damaged"))
    with pytest.raises(ConfigError, match="init_from_run") as err:
        start_run(config, store)
    assert "mf-damaged" in str(err.value) and "checkpoint" in str(err.value)
    assert sorted(p.name for p in store.root.iterdir()) == before


def test_the_apps_calibration_measures_mf_continued_without_its_mf_run() -> None:
    from rec_app.estimate.calibration import measure

    config = RunConfig(data=DATA, model=CONTINUED, train=dataclasses.replace(TRAINED, epochs=2)).to_dict()
    measured = measure(config)  # a duration profile of the settings: no MF run is needed for that
    assert measured["profile"]  # (it used to fail: the warm start was switched off with text-model fields)
