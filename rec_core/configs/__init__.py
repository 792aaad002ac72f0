"""Every config of a run, torch-free, at the bottom of the package: importing it loads no torch
and nothing of rec_core above it (the app reads presets and builds configs through it).

- `convert`: frozen dataclasses to and from JSON-ready dicts, with field-named errors
- `presets`: the Enhanced model's presets and the recipes' train values
- `data`, `split`, `train`, `eval`, `text`: one config dataclass each
- `model`: one config dataclass per model kind and `MODEL_CONFIGS` (kind -> config class)
- `run`: `RunConfig` (everything that defines a run) and the config file reader
"""

from rec_core.configs.convert import (
    MAX_SEED,
    check_number,
    coerce_value,
    config_from_dict,
    config_to_dict,
    field_types,
    sub_table,
)
from rec_core.configs.data import DataConfig
from rec_core.configs.eval import METRIC_NAMES, EvalConfig
from rec_core.configs.model import (
    MODEL_CONFIGS,
    EASEConfig,
    EnhancedConfig,
    GPT2RecConfig,
    ItemKNNConfig,
    MFConfig,
    PopularityConfig,
    model_config_class,
)
from rec_core.configs.presets import PRESET_TRAIN, PRESETS, SPLIT_PRESETS, with_preset, with_preset_train
from rec_core.configs.run import RunConfig, check_seed, read_config_file
from rec_core.configs.split import SplitConfig
from rec_core.configs.text import TextEncoderConfig
from rec_core.configs.train import TrainConfig

__all__ = [
    "DataConfig",
    "EASEConfig",
    "EnhancedConfig",
    "EvalConfig",
    "GPT2RecConfig",
    "ItemKNNConfig",
    "MAX_SEED",
    "METRIC_NAMES",
    "MFConfig",
    "MODEL_CONFIGS",
    "PRESETS",
    "PRESET_TRAIN",
    "PopularityConfig",
    "RunConfig",
    "SPLIT_PRESETS",
    "SplitConfig",
    "TextEncoderConfig",
    "TrainConfig",
    "check_number",
    "check_seed",
    "coerce_value",
    "config_from_dict",
    "config_to_dict",
    "field_types",
    "model_config_class",
    "read_config_file",
    "sub_table",
    "with_preset",
    "with_preset_train",
]
