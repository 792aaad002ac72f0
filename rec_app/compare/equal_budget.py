"""The equal-budget reference of warm-started models on the Compare page and in the report.

A text model warm-started from a finished MF run trains further than that MF did; MF trained on
from the same run for the same extra budget ("MF continued", rec_core.warm_start) gains by
itself (+1.8% NDCG@10 on ML-100K ratio). So a warm-started group is judged against its *control*:
the MF-continued group on the same dataset and split with the same `init_from_run` setting, the
same MF part (embed_dim, reg_weight, item_bias) and the same train config (epochs, lr, patience,
batch size, ...; torch's thread count aside, which changes no metric). MF from scratch, the
page's ordinary reference, stays beside it. Also the warm-start sources: which MF run each run
started from, with that run's settings (results.json's "warm_start").

Pure functions over `RunGroup`s; reading files is the caller's business.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from rec_app.compare.groups import RunGroup, seedless_config
from rec_app.compare.table import GroupComparison
from rec_app.i18n import t
from rec_core.configs import sub_table
from rec_core.setting import data_split
from rec_core.warm_start import MF_PART_FIELDS

__all__ = [
    "is_warm_started",
    "is_continued_mf",
    "control_for",
    "equal_budget_pairs",
    "control_comparisons",
    "warm_start_table",
    "warm_start_display",
    "warm_start_settings",
    "WARM_START_COLUMNS",
]

_EXECUTION_ONLY = ("threads",)  # train fields that change how fast, never what is computed


def _model(group: RunGroup) -> dict[str, Any]:
    return sub_table(group.runs[0].config, "model") if group.runs else {}


def is_warm_started(group: RunGroup) -> bool:
    """A text model (any model but MF) started from an MF run (`init_from_run` set)."""
    model = _model(group)
    return bool(model.get("init_from_run")) and model.get("name") != "mf"


def is_continued_mf(group: RunGroup) -> bool:
    """MF trained on from a finished MF run: the equal-budget control of warm-started models."""
    model = _model(group)
    return model.get("name") == "mf" and bool(model.get("init_from_run"))


def _budget(group: RunGroup) -> str:
    """What a warm-started group and its control must share, as one comparable string."""
    config = seedless_config(group.runs[0].config) if group.runs else {}
    model = sub_table(config, "model")
    train = {k: v for k, v in sub_table(config, "train").items() if k not in _EXECUTION_ONLY}
    key = {
        "setting": data_split(config),
        "init_from_run": model.get("init_from_run"),
        "mf_part": {k: model.get(k) for k in MF_PART_FIELDS},
        "train": train,
    }
    return json.dumps(key, sort_keys=True, default=str)


def control_for(group: RunGroup, pool: Sequence[RunGroup]) -> RunGroup | None:
    """The MF-continued group of `pool` that is `group`'s equal-budget control (see the module
    docstring), the one sharing the most seeds with it (then with the most runs, then by name);
    None when `group` is not warm-started or has none."""
    if not is_warm_started(group):
        return None
    budget = _budget(group)
    fits = [c for c in pool if is_continued_mf(c) and c.all_done and _budget(c) == budget]
    if not fits:
        return None
    seeds = set(group.seeds)
    return min(fits, key=lambda c: (-len(seeds & set(c.seeds)), -len(c.runs), c.name, c.key))


def equal_budget_pairs(
    selected: Sequence[RunGroup], pool: Sequence[RunGroup]
) -> list[tuple[RunGroup, RunGroup | None]]:
    """(warm-started group, its control or None) for each warm-started group of `selected`, in
    order; the control is looked for in `pool` (every group, selected or not)."""
    return [(g, control_for(g, pool)) for g in selected if is_warm_started(g)]


def control_comparisons(
    pairs: Sequence[tuple[RunGroup, RunGroup | None]],
    compare: Callable[[RunGroup, Sequence[RunGroup]], list[GroupComparison]],
) -> list[GroupComparison]:
    """Each warm-started group of `pairs` against its control, through `compare(reference,
    others)` (compare_table.compare_groups with a reader, or the page's cached version); groups
    without a control are left out (the caller says so)."""
    out: list[GroupComparison] = []
    for group, control in pairs:
        if control is not None:
            out += compare(control, [group])
    return out


WARM_START_COLUMNS = (
    "group",
    "seed",
    "run",
    "warm_start_run",
    "lr",
    "epochs",
    "patience",
    "reg_weight",
    "embed_dim",
    "epochs_run",
)


def warm_start_table(groups: Sequence[RunGroup], read_results: Callable[[str], dict[str, Any] | None]) -> pd.DataFrame:
    """Which MF run each warm-started run (text model or MF continued) of `groups` started from,
    with the settings that MF run was trained with (results.json's "warm_start"; runs older than
    that record show only the run id, from "warm_start_run"). One row per run; empty when none."""
    records = []
    for g in groups:
        if not (is_warm_started(g) or is_continued_mf(g)):
            continue
        for r in g.runs:
            try:
                results = read_results(r.run_id) or {}
            except Exception:  # noqa: BLE001 - an unreadable results.json shows as unknown
                results = {}
            found = results.get("warm_start")
            record: dict[str, Any] = found if isinstance(found, dict) else {}
            train, model = record.get("train") or {}, record.get("model") or {}
            records.append(
                {
                    "group": g.name,
                    "seed": r.seed,
                    "run": r.run_id,
                    "warm_start_run": record.get("run_id") or results.get("warm_start_run"),
                    "lr": train.get("lr"),
                    "epochs": train.get("epochs"),
                    "patience": train.get("patience"),
                    "reg_weight": model.get("reg_weight"),
                    "embed_dim": model.get("embed_dim"),
                    "epochs_run": record.get("epochs_run"),
                }
            )
    return pd.DataFrame.from_records(records, columns=list(WARM_START_COLUMNS))


_DISPLAY = {
    "group": "col.group",
    "seed": "col.seed",
    "run": "col.run",
    "warm_start_run": "col.warm_start_run",
    "lr": "col.mf_lr",
    "epochs": "col.mf_epochs",
    "patience": "col.mf_patience",
    "reg_weight": "col.mf_reg_weight",
    "embed_dim": "col.mf_embed_dim",
    "epochs_run": "col.mf_epochs_run",
}


def warm_start_display(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """`warm_start_table` with headers in `lang` and "–" where a value is unknown."""
    shown = table.astype(object).where(table.notna(), "–")
    return shown.rename(columns={c: t(key, lang) for c, key in _DISPLAY.items()})


def warm_start_settings(group: RunGroup, read_results: Callable[[str], dict[str, Any] | None]) -> dict[str, Any]:
    """The warm-start source of a group as config-table rows (`warm_start.*`): the MF run of its
    first run's seed and the settings that MF was trained with; {} when not warm-started or
    not recorded."""
    if not group.runs or not (is_warm_started(group) or is_continued_mf(group)):
        return {}
    first = group.runs[0]
    try:
        results = read_results(first.run_id) or {}
    except Exception:  # noqa: BLE001 - an unreadable results.json: nothing to show
        return {}
    found = results.get("warm_start")
    record: dict[str, Any] = found if isinstance(found, dict) else {}
    run_id = record.get("run_id") or results.get("warm_start_run")
    if not run_id:
        return {}
    out: dict[str, Any] = {f"warm_start.run (seed {first.seed})": run_id}
    for section in ("model", "train"):
        for key, value in (record.get(section) or {}).items():
            out[f"warm_start.{section}.{key}"] = value
    return out
