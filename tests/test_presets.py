"""Recipe presets (issue "The seed's model wins where text matters", item 7): `--preset cold`
and `--preset warm` set every value of the measured recipe, the train values included, so
`--model enhanced --preset cold` alone reproduces it; explicit fields win; the presets are read
without torch; the Train page starts from the chosen split's recipe."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rec_core.configs import PRESET_TRAIN, PRESETS, SPLIT_PRESETS
from rec_core.errors import ConfigError
from rec_core.experiment import RunConfig
from rec_core.models.enhanced import EnhancedConfig


def test_presets_are_read_without_importing_torch() -> None:
    code = (
        "import sys; from rec_core.configs import PRESETS, PRESET_TRAIN, SPLIT_PRESETS; "
        "assert 'torch' not in sys.modules, 'torch imported'; print(sorted(PRESETS))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "cold" in out.stdout and "warm" in out.stdout


@pytest.mark.parametrize("preset", ["cold", "warm"])
def test_a_recipe_preset_sets_its_model_and_train_values(preset: str) -> None:
    cfg = RunConfig.from_dict({"model": {"name": "enhanced", "preset": preset}})
    for field, value in PRESETS[preset].items():
        assert getattr(cfg.model, field) == value, field
    for field, value in PRESET_TRAIN[preset].items():
        assert getattr(cfg.train, field) == value, field
    assert cfg.model.preset == preset


def test_explicit_fields_win_over_the_recipe() -> None:
    cfg = RunConfig.from_dict(
        {"model": {"name": "enhanced", "preset": "cold", "n_heads": 2}, "train": {"lr": 0.01, "epochs": 3}}
    )
    assert cfg.model.n_heads == 2 and cfg.model.base == "gpt2rec"
    assert cfg.train.lr == 0.01 and cfg.train.epochs == 3
    assert cfg.train.patience == PRESET_TRAIN["cold"]["patience"]


def test_the_scheme_presets_set_no_train_values() -> None:
    cfg = RunConfig.from_dict({"model": {"name": "enhanced", "preset": "scheme1"}})
    assert cfg.train == RunConfig().train


def test_an_unknown_preset_names_the_field_and_the_allowed_ones() -> None:
    with pytest.raises(ConfigError, match=r"model\.preset.*cold.*warm"):
        RunConfig.from_dict({"model": {"name": "enhanced", "preset": "hot"}})
    with pytest.raises(ConfigError, match="preset"):
        EnhancedConfig(preset="hot")


def test_every_split_preset_exists() -> None:
    assert set(SPLIT_PRESETS.values()) <= set(PRESETS)
    assert SPLIT_PRESETS["cold-items"] == "cold" and SPLIT_PRESETS["ratio"] == "warm"


def test_the_command_line_preset_alone_gives_the_recipe(tmp_path: Path) -> None:
    # `train --model enhanced --preset cold` with a bad epoch count exits 2 before any run folder
    # exists; the config it would run is checked through `config_from_args`.
    from rec_core.cli import build_parser, config_from_args

    args = build_parser().parse_args(["train", "--model", "enhanced", "--preset", "cold", "--split", "cold-items"])
    cfg = config_from_args(args)
    assert cfg.model.base == "gpt2rec" and cfg.model.text_to_id is PRESETS["cold"]["text_to_id"]
    assert cfg.train.lr == PRESET_TRAIN["cold"]["lr"]
    assert json.loads(json.dumps(cfg.to_dict()))["model"]["preset"] == "cold"
