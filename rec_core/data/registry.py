"""One entry point: `load_dataset(config)`, plus what is on disk for the app's home page."""

from __future__ import annotations

from pathlib import Path

from rec_core.data.config import DATASET_NAMES, DataConfig, resolve_data_dir
from rec_core.data.csv_source import load_csv
from rec_core.data.download import (
    BUILTIN_SPECS,
    DEFAULT_TIMEOUT_S,
    dataset_folder,
    download_dataset,
    missing_files,
    unavailable_message,
)
from rec_core.data.integrity import check_dataset_folder, check_loaded_sizes
from rec_core.data.interactions import InteractionData
from rec_core.data.movielens import load_ml1m, load_ml10m, load_ml20m, load_ml100k
from rec_core.data.synthetic import generate_synthetic
from rec_core.errors import ConfigError, DatasetUnavailable

__all__ = ["load_dataset", "dataset_status", "ensure_dataset"]

_LOADERS = {"ml-100k": load_ml100k, "ml-1m": load_ml1m, "ml-10m": load_ml10m, "ml-20m": load_ml20m}


def ensure_dataset(
    name: str,
    data_dir: str | Path | None = None,
    *,
    download: bool = True,
    url: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> Path:
    """Folder holding a complete built-in dataset, downloading it if allowed and absent.

    Raises DatasetUnavailable (naming the URL and the folder) when it is not on disk and
    cannot be fetched; a folder that exists but lacks files is reported, never overwritten.
    """
    if name not in BUILTIN_SPECS:
        raise ConfigError("name", f"{name!r} is not a downloadable dataset; those are: {', '.join(BUILTIN_SPECS)}")
    spec = BUILTIN_SPECS[name]
    folder = dataset_folder(spec, resolve_data_dir(data_dir))
    missing = missing_files(spec, folder)
    if not missing:
        return folder
    if folder.exists():
        raise DatasetUnavailable(unavailable_message(spec, folder, f"{folder} lacks {', '.join(missing)}", url))
    if not download:
        raise DatasetUnavailable(unavailable_message(spec, folder, f"{folder} does not exist and download=False", url))
    return download_dataset(spec, folder.parent, url=url, timeout=timeout)


def load_dataset(config: DataConfig) -> InteractionData:
    """The dataset `config` names, as `InteractionData` (downloads MovieLens if allowed)."""
    if config.name == "synthetic":
        return generate_synthetic(config)
    if config.name == "csv":
        return load_csv(config)
    if config.name in _LOADERS:
        folder = ensure_dataset(config.name, config.data_dir, download=config.download)
        check_dataset_folder(config.name, folder)  # a truncated file must not pass for the dataset
        data = _LOADERS[config.name](folder, config.min_rating)
        check_loaded_sizes(config.name, folder, data, config.min_rating)
        return data
    # DataConfig validates the name; this guards configs built around validation.
    raise ConfigError("name", f"unknown dataset {config.name!r}; allowed: {', '.join(DATASET_NAMES)}")


def dataset_status(data_dir: str | None = None) -> list[dict[str, str | None]]:
    """Per dataset: name, state ("ready" | "missing"), path, url, and a human `detail`.

    No network call is made, so a dataset not on disk is "missing" whether or not it could be
    downloaded; `detail` says "not downloaded" and where its files must go. The generated
    `synthetic` dataset is always "ready" (path and url None).
    """
    root = resolve_data_dir(data_dir)
    rows: list[dict[str, str | None]] = []
    for spec in BUILTIN_SPECS.values():
        folder = dataset_folder(spec, root)
        missing = missing_files(spec, folder)
        if not missing:
            state, detail = "ready", f"on disk in {folder}"
        elif folder.exists():
            state, detail = "missing", f"incomplete: {folder} lacks {', '.join(missing)}"
        else:
            state, detail = "missing", f"not downloaded; it downloads on first use, or unzip {spec.url} into {folder}"
        rows.append({"name": spec.name, "state": state, "path": str(folder), "url": spec.url, "detail": detail})
    rows.append(
        {"name": "synthetic", "state": "ready", "path": None, "url": None, "detail": "generated from a seed in memory"}
    )
    return rows
