"""Which runs share an experimental setting: the same data (wherever its files are) and the same
split (seeds aside). Pure functions on run config dicts, used wherever two runs must be paired
or one must start from the other: Compare, the CLI `compare`, warm start, error analysis."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rec_core.configs import sub_table

__all__ = ["data_split", "describe_setting", "differing_fields", "setting_mismatch"]

# Where the dataset's files are read from, not what they are: two runs on the same dataset
# from different folders are the same experiment.
_DATA_LOCATION_FIELDS = ("data_dir", "download")


def data_split(config: dict[str, Any], compare_location: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """What a run's users and test items depend on: its data config (without where the files
    are, unless `compare_location`) and its split config (without the seed, which groups vary)."""
    data, split = sub_table(config, "data"), sub_table(config, "split")
    if not compare_location:
        data = {k: v for k, v in data.items() if k not in _DATA_LOCATION_FIELDS}
    return data, {k: v for k, v in split.items() if k != "seed"}


def describe_setting(config: dict[str, Any], fields: Iterable[str] = ()) -> str:
    """`dataset ml-100k, split cold-items` plus the `section.field=value` settings in `fields`."""
    data, split = data_split(config, compare_location=True)
    text = f"dataset {data.get('name', '?')}, split {split.get('kind', '?')}"
    flat = {**{f"data.{k}": v for k, v in data.items()}, **{f"split.{k}": v for k, v in split.items()}}
    extra = [f"{f}={flat.get(f)}" for f in fields if f not in ("data.name", "split.kind")]
    return text + (f" ({', '.join(extra)})" if extra else "")


def setting_mismatch(
    reference: dict[str, Any], other: dict[str, Any], compare_location: bool = False
) -> tuple[str, str] | None:
    """None when two run configs share dataset and split (seed aside; the data's folder too
    with `compare_location`); else both described, naming the settings that differ:
    ("dataset ml-100k, split ratio", "dataset ml-1m, split ratio")."""
    fields = differing_fields(reference, other, compare_location)
    if not fields:
        return None
    return describe_setting(reference, fields), describe_setting(other, fields)


def differing_fields(
    a: dict[str, Any], b: dict[str, Any], compare_location: bool = False
) -> dict[str, tuple[Any, Any]]:
    """`{"split.kind": (value in a, value in b), ...}`, sorted by name: the data and split
    settings (seed aside) in which two run configs differ; empty when they share the setting."""
    da, sa = data_split(a, compare_location)
    db, sb = data_split(b, compare_location)
    out: dict[str, tuple[Any, Any]] = {}
    for section, x, y in (("data", da, db), ("split", sa, sb)):
        for k in {*x, *y}:
            if json.dumps(x.get(k), sort_keys=True, default=str) != json.dumps(y.get(k), sort_keys=True, default=str):
                out[f"{section}.{k}"] = (x.get(k), y.get(k))
    return dict(sorted(out.items()))
