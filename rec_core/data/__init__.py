"""The data layer: MovieLens, CSV and synthetic sources -> `InteractionData`.

`load_dataset(DataConfig(...))` is the one entry point; `dataset_status()` says what is on
disk for the app's home page without touching the network.
"""

from rec_core.data.config import (
    DATA_DIR_ENV,
    DATASET_NAMES,
    SYNTHETIC_GENRE_NAMES,
    DataConfig,
    DatasetName,
    resolve_data_dir,
)
from rec_core.data.csv_source import load_csv, validate_csv
from rec_core.data.download import (
    BUILTIN_SPECS,
    ML1M_SPEC,
    ML10M_SPEC,
    ML20M_SPEC,
    ML100K_SPEC,
    DatasetSpec,
    download_dataset,
)
from rec_core.data.interactions import InteractionData, TextTable
from rec_core.data.movielens import (
    ITEM_TEMPLATE,
    ML1M_USER_TEMPLATE,
    ML100K_USER_TEMPLATE,
    load_ml1m,
    load_ml10m,
    load_ml20m,
    load_ml100k,
    parse_movielens_title,
    read_ml1m_users,
    read_movies_csv,
    read_movies_dat,
)
from rec_core.data.registry import dataset_status, ensure_dataset, load_dataset
from rec_core.data.synthetic import generate_synthetic
from rec_core.data.text_template import TextTemplate, render_text_table

__all__ = [
    "BUILTIN_SPECS",
    "DATASET_NAMES",
    "DATA_DIR_ENV",
    "DataConfig",
    "DatasetName",
    "DatasetSpec",
    "ITEM_TEMPLATE",
    "InteractionData",
    "ML100K_SPEC",
    "ML100K_USER_TEMPLATE",
    "ML10M_SPEC",
    "ML1M_SPEC",
    "ML1M_USER_TEMPLATE",
    "ML20M_SPEC",
    "SYNTHETIC_GENRE_NAMES",
    "TextTable",
    "TextTemplate",
    "dataset_status",
    "download_dataset",
    "ensure_dataset",
    "generate_synthetic",
    "load_csv",
    "load_dataset",
    "load_ml100k",
    "load_ml1m",
    "load_ml10m",
    "load_ml20m",
    "parse_movielens_title",
    "read_ml1m_users",
    "read_movies_csv",
    "read_movies_dat",
    "render_text_table",
    "resolve_data_dir",
    "validate_csv",
]
