"""`DataConfig`: which dataset to load and how, validated when it is built."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rec_core.errors import ConfigError

__all__ = [
    "DataConfig",
    "DatasetName",
    "DATASET_NAMES",
    "SYNTHETIC_GENRE_NAMES",
    "DATA_DIR_ENV",
    "resolve_data_dir",
]

DatasetName = Literal["ml-100k", "ml-1m", "ml-10m", "ml-20m", "synthetic", "csv"]
DATASET_NAMES: tuple[str, ...] = ("ml-100k", "ml-1m", "ml-10m", "ml-20m", "synthetic", "csv")
DATA_DIR_ENV = "REC_CORE_DATA"

# The synthetic generator names its genres from this list, in order; its length caps
# `synthetic_genres`. It lives here (not in synthetic.py) so the config can validate it.
SYNTHETIC_GENRE_NAMES: tuple[str, ...] = (
    "Action",
    "Comedy",
    "Drama",
    "Horror",
    "Romance",
    "Sci-Fi",
    "Documentary",
    "Animation",
    "Thriller",
    "Fantasy",
    "Western",
    "Musical",
)


@dataclass(frozen=True)
class DataConfig:
    """Where a dataset comes from and how its interactions are filtered.

    Hashable (frozen), so the app can use it as a cache key; JSON-serialisable through
    `dataclasses.asdict`.
    """

    name: DatasetName = "ml-100k"  # ml-100k | ml-1m | ml-10m | ml-20m (GroupLens files) | synthetic | csv
    # Folder holding `ml-100k/`, `ml-1m/`, `ml-10m/`, `ml-20m/`; None -> $REC_CORE_DATA -> user cache dir.
    data_dir: str | None = None
    # None keeps every rating as a positive (RecBole's ML-100K default); else keep ratings >= it.
    min_rating: float | None = None
    download: bool = True  # fetch the GroupLens zip when the folder is missing

    # --- synthetic: a generated dataset whose metadata text predicts interactions ---
    synthetic_users: int = 600  # number of users
    synthetic_items: int = 500  # number of items in the catalogue
    synthetic_genres: int = 8  # genres used, the first N of SYNTHETIC_GENRE_NAMES
    synthetic_interactions_per_user: int = 40  # mean interactions per user (min 3 each)
    synthetic_seed: int = 0  # same seed + same sizes -> identical dataset

    # --- csv: your own interactions, with optional item and user tables ---
    csv_interactions: str | None = None  # path of the interactions CSV (required for csv)
    csv_items: str | None = None  # optional item table: id column + text columns
    csv_users: str | None = None  # optional user table: id column + text columns
    csv_user_col: str = "user"  # user id column in the interactions CSV
    csv_item_col: str = "item"  # item id column in the interactions CSV
    csv_rating_col: str | None = None  # numeric rating column; None -> every row rates 1.0
    csv_time_col: str | None = None  # numeric timestamp column; None -> row order
    csv_item_id_col: str = "item"  # id column in the item table
    csv_user_id_col: str = "user"  # id column in the user table
    # Item text template over item-table columns, e.g. "{title}. Genres: {genres}.";
    # None -> "col: value. col: value." over every non-id column.
    csv_item_template: str | None = None
    csv_user_template: str | None = None  # same for the user table
    csv_sep: str = ","  # field separator of all three CSV files

    def __post_init__(self) -> None:
        if self.name not in DATASET_NAMES:
            raise ConfigError("name", f"unknown dataset {self.name!r}; allowed: {', '.join(DATASET_NAMES)}")
        if self.data_dir is not None and (not isinstance(self.data_dir, str) or not self.data_dir):
            raise ConfigError("data_dir", "must be a non-empty folder path or None")
        if self.min_rating is not None:
            if isinstance(self.min_rating, bool) or not isinstance(self.min_rating, (int, float)):
                raise ConfigError("min_rating", f"must be a number or None, got {self.min_rating!r}")
            if not math.isfinite(self.min_rating):
                raise ConfigError("min_rating", f"must be finite, got {self.min_rating}")
        if not isinstance(self.download, bool):
            raise ConfigError("download", f"must be True or False, got {self.download!r}")
        self._check_synthetic()
        self._check_csv()

    def _check_synthetic(self) -> None:
        for field_name, low in (
            ("synthetic_users", 1),
            ("synthetic_items", 2),
            ("synthetic_genres", 2),
            ("synthetic_interactions_per_user", 3),
        ):
            value = getattr(self, field_name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(field_name, f"must be an integer >= {low}, got {value!r}")
        if self.synthetic_genres > len(SYNTHETIC_GENRE_NAMES):
            raise ConfigError(
                "synthetic_genres",
                f"at most {len(SYNTHETIC_GENRE_NAMES)} genres are named, got {self.synthetic_genres}",
            )
        # Users sample without replacement, so the mean must leave room in the catalogue.
        if self.synthetic_interactions_per_user > self.synthetic_items // 2:
            raise ConfigError(
                "synthetic_interactions_per_user",
                f"must be <= synthetic_items // 2 = {self.synthetic_items // 2}, "
                f"got {self.synthetic_interactions_per_user}",
            )
        if isinstance(self.synthetic_seed, bool) or not isinstance(self.synthetic_seed, int):
            raise ConfigError("synthetic_seed", f"must be an integer, got {self.synthetic_seed!r}")
        if self.synthetic_seed < 0:
            raise ConfigError("synthetic_seed", f"must be >= 0, got {self.synthetic_seed}")

    def _check_csv(self) -> None:
        if not isinstance(self.csv_sep, str) or len(self.csv_sep) != 1 or self.csv_sep in '"\r\n':
            raise ConfigError("csv_sep", f"must be one character (not a quote or newline), got {self.csv_sep!r}")
        for field_name in ("csv_user_col", "csv_item_col", "csv_item_id_col", "csv_user_id_col"):
            value = getattr(self, field_name)
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(field_name, "must be a non-empty column name")
        for field_name in ("csv_rating_col", "csv_time_col", "csv_interactions", "csv_items", "csv_users"):
            value = getattr(self, field_name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigError(field_name, "must be a non-empty string or None")
        for field_name in ("csv_item_template", "csv_user_template"):
            value = getattr(self, field_name)
            if value is not None:
                if not isinstance(value, str):
                    raise ConfigError(field_name, f"must be a template string or None, got {value!r}")
                # Imported here: the template parser lives with the data code (pandas), which
                # the bottom config layer does not load unless a template is given.
                from rec_core.data.text_template import TextTemplate

                TextTemplate.parse(value, config_field=field_name)  # syntax only; columns are checked on load
        if self.name != "csv":
            return
        if self.csv_interactions is None:
            raise ConfigError("csv_interactions", "name='csv' needs the path of the interactions CSV")
        if self.csv_user_col == self.csv_item_col:
            raise ConfigError("csv_user_col,csv_item_col", "user and item columns must differ")
        if self.csv_item_template is not None and self.csv_items is None:
            raise ConfigError("csv_item_template", "needs csv_items (the item table it is rendered from)")
        if self.csv_user_template is not None and self.csv_users is None:
            raise ConfigError("csv_user_template", "needs csv_users (the user table it is rendered from)")
        if self.min_rating is not None and self.csv_rating_col is None:
            raise ConfigError("min_rating", "filtering by rating needs csv_rating_col")


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Folder holding the dataset subfolders: the argument, else $REC_CORE_DATA, else the user cache dir."""
    if data_dir is not None and str(data_dir):
        return Path(data_dir).expanduser()
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    # Imported lazily: only needed when nothing was configured.
    import platformdirs

    return Path(platformdirs.user_cache_dir("rec_core")) / "data"
