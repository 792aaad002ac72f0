"""The defence report's tables as data frames: the runs, the settings of each group (the
fields that differ marked) and the versions and machine they ran on. Pure functions."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from rec_app.compare.equal_budget import warm_start_settings
from rec_app.compare.groups import RunGroup, flatten_config, seedless_config
from rec_app.i18n import part_metric_label, t
from rec_app.runs.model_names import model_display_name

__all__ = ["_config_table", "_environment_table", "_runs_table"]


_ENV_KEYS = (
    "python",
    "platform",
    "rec_core",
    "code",
    "torch",
    "transformers",
    "peft",
    "numpy",
    "pandas",
    "device",
    "cpu_count",
    "torch_threads",
    "cuda_version",
    "cuda_device",
)


_PACKAGES = ("torch", "transformers", "peft", "numpy", "pandas", "plotly", "streamlit")


def _runs_table(groups: Sequence[RunGroup], lang: str) -> pd.DataFrame:
    label = part_metric_label("ndcg@10", "test", lang)
    records = [
        {
            t("col.group", lang): g.name,
            t("report.col_what", lang): model_display_name(r.config, lang),
            t("report.col_run", lang): r.run_id,
            t("col.seed", lang): r.seed,
            t("report.col_state", lang): t(f"state.{r.state}", lang, default=r.state),
            t("col.best_epoch", lang): r.best_text or "–",
            t("col.ended", lang): r.completion.get("summary") or "–",
            label: f"{r.metrics['ndcg@10']:.4f}" if "ndcg@10" in r.metrics else "–",
        }
        for g in groups
        for r in g.runs
    ]
    return pd.DataFrame.from_records(records)


def _relevant(flat: dict[str, Any]) -> dict[str, Any]:
    """A flattened config without the data fields its dataset does not read (`synthetic_*` for
    MovieLens, `csv_*` for anything but a CSV upload)."""
    name = str(flat.get("data.name", ""))

    def used(key: str) -> bool:
        field = key.removeprefix("data.")
        if field.startswith("synthetic_"):
            return name == "synthetic"
        if field.startswith("csv_"):
            return name == "csv"
        return True

    return {k: v for k, v in flat.items() if not k.startswith("data.") or used(k)}


def _config_table(
    groups: Sequence[RunGroup], lang: str, read: Callable[[str], dict[str, Any] | None] = lambda _: None
) -> tuple[pd.DataFrame, list[bool]]:
    """Setting x group (seedless configs, flattened, without data fields the dataset does not
    read; then the warm-start source: the MF run and how it was trained; then what the results
    record beyond the config that changes numbers: processes, backbone identity, training code,
    `result.*`); which rows differ between groups."""
    flat = [
        {
            **_relevant(flatten_config(seedless_config(g.runs[0].config))),
            **warm_start_settings(g, read),
            **{f"result.{k}": v for k, v in flatten_config(g.runs[0].setting).items()},
        }
        if g.runs
        else {}
        for g in groups
    ]
    keys = list(dict.fromkeys(k for f in flat for k in f))

    def shown(v: object) -> str:
        return json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else ("–" if v is None else str(v))

    frame = pd.DataFrame(
        {t("report.col_setting", lang): keys, **{g.name: [shown(f.get(k)) for k in keys] for g, f in zip(groups, flat)}}
    )
    differs = [len({shown(f.get(k)) for f in flat}) > 1 for k in keys]
    return frame, differs


def _this_machine() -> dict[str, str]:
    out = {"python": platform.python_version(), "platform": platform.platform(), "cpu_count": str(os.cpu_count())}
    for name in ("rec_core", *_PACKAGES):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def _environment_table(
    groups: Sequence[RunGroup], results: Mapping[str, dict[str, Any] | None], lang: str
) -> pd.DataFrame:
    """One column per distinct recorded environment (headed by its runs), then this machine."""
    columns: dict[str, dict[str, Any]] = {}
    runs_of: dict[str, list[str]] = {}
    for g in groups:
        for r in g.runs:
            env = (results.get(r.run_id) or {}).get("environment")
            if not isinstance(env, dict):
                continue
            key = json.dumps(env, sort_keys=True, default=str)
            columns.setdefault(key, env)
            runs_of.setdefault(key, []).append(r.run_id)
    here = _this_machine()
    keys = [k for k in _ENV_KEYS if any(k in env for env in columns.values()) or k in here]
    keys += [k for k in here if k not in keys]
    frame = pd.DataFrame({t("report.col_setting", lang): [t(f"report.env.{k}", lang, default=k) for k in keys]})
    for key, env in columns.items():
        runs = runs_of[key]
        head = ", ".join(runs[:3]) + (f" (+{len(runs) - 3})" if len(runs) > 3 else "")
        frame[head] = ["–" if env.get(k) is None else str(env.get(k)) for k in keys]
    frame[t("report.this_machine", lang)] = [here.get(k, "–") for k in keys]
    return frame
