"""`RunConfig`, everything that defines a run, and the reader of config files (JSON or TOML
with sections data, split, model, train, eval): torch-free."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rec_core.configs.convert import MAX_SEED, coerce_value, config_from_dict, config_to_dict
from rec_core.configs.data import DataConfig
from rec_core.configs.eval import EvalConfig
from rec_core.configs.model import MODEL_CONFIGS, model_config_class
from rec_core.configs.presets import PRESET_TRAIN, with_preset, with_preset_train
from rec_core.configs.split import SplitConfig
from rec_core.configs.train import TrainConfig, check_monitor
from rec_core.errors import ConfigError

__all__ = ["RunConfig", "check_seed", "read_config_file"]


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run. `seed` drives the split, the init and the sampling."""

    data: DataConfig = field(default_factory=DataConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    model: Any = field(default_factory=lambda: model_config_class("mf")())  # a model config
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    seed: int = 0  # one seed for the split, the model's init, shuffling and negative sampling
    label: str = ""  # free text shown in the app; not part of the science

    def __post_init__(self) -> None:
        if getattr(self.model, "name", None) not in MODEL_CONFIGS:
            raise ConfigError("model", f"allowed: {', '.join(MODEL_CONFIGS)}")
        check_seed(self.seed)
        check_monitor(self.train.monitor, self.eval)  # a metric at a cutoff validation computes
        # The sub-configs carry their own seeds; the run's seed overrides them so one number
        # reproduces the run.
        if self.split.seed != self.seed:
            object.__setattr__(self, "split", dataclasses.replace(self.split, seed=self.seed))
        if self.train.seed != self.seed:
            object.__setattr__(self, "train", dataclasses.replace(self.train, seed=self.seed))

    def to_dict(self) -> dict[str, Any]:
        return config_to_dict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunConfig":
        d = dict(d)
        model_d = with_preset(d.pop("model", {"name": "mf"}))  # explicit fields win over the preset
        if model_d.get("preset") in PRESET_TRAIN:  # a recipe preset: its train values too
            train_d = d.get("train", {})
            if not isinstance(train_d, dict):
                raise ConfigError("train", "expected a table of fields")
            d["train"] = with_preset_train(model_d, train_d)
        model_cls = model_config_class(str(model_d.get("name", "mf")))
        model: Any = config_from_dict(model_cls, model_d, "model.")  # the kind's own config class
        sub = {
            "data": DataConfig,
            "split": SplitConfig,
            "train": TrainConfig,
            "eval": EvalConfig,
        }
        kwargs: dict[str, Any] = {"model": model}
        for key, value in d.items():
            if key in sub:
                kwargs[key] = config_from_dict(sub[key], value, key + ".")
            elif key == "seed":
                kwargs[key] = _seed(value)
            elif key == "label":
                kwargs[key] = str(value)
            else:
                raise ConfigError(key, "unknown section; allowed: data, split, model, train, eval, seed, label")
        return cls(**kwargs)

    def run_prefix(self) -> str:
        """Readable prefix of generated run ids, e.g. `mf-ml-100k-ratio-s0`."""
        preset = getattr(self.model, "preset", "") or ""
        fold = f"fold{self.split.fold}of{self.split.folds}" if self.split.folds else ""
        parts = [self.model.name, preset, self.data.name, self.split.kind, fold, f"s{self.seed}"]
        return "-".join(p for p in parts if p)


def _seed(value: Any) -> int:
    """The run's seed from a config value: an integer (or an integer string / 3.0), never 1.7."""
    try:
        seed = coerce_value("seed", int, value)  # the integer rule of every config field
    except ConfigError:
        raise ConfigError("seed", f"must be an integer, got {value!r}") from None
    return check_seed(seed)


def check_seed(seed: int) -> int:
    """`seed` if it is in 0..MAX_SEED (stored as int64 in the run tables), else ConfigError."""
    if not 0 <= seed <= MAX_SEED:
        raise ConfigError("seed", f"must be in 0..{MAX_SEED} (2**63 - 1), got {seed}")
    return seed


def read_config_file(path: str) -> dict[str, Any]:
    """The sections of a JSON or TOML config file (`--config FILE`), not yet validated;
    ConfigError("config", ...) names the file when it is missing, unreadable or malformed."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError("config", f"file not found: {path}")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError("config", f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError("config", f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        if p.suffix.lower() == ".toml":
            return tomllib.loads(text)
        return json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("config", f"{path} is not valid {'TOML' if p.suffix == '.toml' else 'JSON'}: {exc}") from None
