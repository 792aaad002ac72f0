"""`DataConfig` lives in `rec_core.configs.data` (the torch-free config layer); re-exported here."""

from rec_core.configs.data import (
    DATA_DIR_ENV,
    DATASET_NAMES,
    SYNTHETIC_GENRE_NAMES,
    DataConfig,
    DatasetName,
    resolve_data_dir,
)

__all__ = [
    "DataConfig",
    "DatasetName",
    "DATASET_NAMES",
    "SYNTHETIC_GENRE_NAMES",
    "DATA_DIR_ENV",
    "resolve_data_dir",
]
