"""Groups of runs that differ only by seed, and which group a comparison is made against.

`group_runs` puts runs whose configs are equal except for the seed (and label) in one
`RunGroup` (one run per seed; repeats of a seed are set aside), `single_groups` makes one group
per run, and the names say what tells groups apart. Reference rule (`default_reference`): never
the newest group, but finished runs of the ID-only baseline (`mf`, else `pop`) on the same
dataset and split as the groups compared, the one with the most seeds. Pure functions over
`RunRow`s.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from rec_app.runs.model_names import model_display_name, model_short_name
from rec_app.runs.table import RunRow
from rec_core.setting import data_split, describe_setting, setting_mismatch

__all__ = [
    "RunGroup",
    "usable_row",
    "seedless_config",
    "flatten_config",
    "group_runs",
    "single_groups",
    "default_reference",
    "initial_selection",
    "baseline_for_run",
    "BASELINE_MODELS",
    "data_split",
    "describe_setting",
    "setting_mismatch",
]

_SEED_PATHS = (("seed",), ("label",), ("split", "seed"), ("train", "seed"))
BASELINE_MODELS: tuple[str, ...] = ("mf", "pop")  # the default reference, in order of preference
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)  # sorts runs without a time stamp last


@dataclass(frozen=True)
class RunGroup:
    """Runs whose configs are equal except for the seed (and the free-text label), and whose
    results record the same processes, warm-start source settings, backbone identity and
    training code (`RunRow.setting`): one run per seed."""

    key: str  # hash of the seedless config and the result setting
    name: str  # shown in tables and legends
    runs: tuple[RunRow, ...]  # sorted by seed, one per seed
    # Further runs of a seed the group already has (the same experiment run again): left out of
    # every number, so that a repeated seed is never counted as seed variation; the page flags them.
    duplicates: tuple[RunRow, ...] = ()
    full_name: str = ""  # everything the name stands for (hover, exports); `name` is short and unique

    @property
    def title(self) -> str:
        """The full name (the short name where no full one was recorded)."""
        return self.full_name or self.name

    @property
    def seeds(self) -> tuple[int | None, ...]:
        return tuple(r.seed for r in self.runs)

    def run_for_seed(self, seed: int | None) -> RunRow | None:
        return next((r for r in self.runs if r.seed == seed), None)

    @property
    def model(self) -> str:
        return self.runs[0].model if self.runs else "?"

    @property
    def stopped(self) -> bool:
        """Whether the group holds runs stopped before their planned end."""
        return any(r.state == "stopped" for r in self.runs)

    @property
    def all_done(self) -> bool:
        return bool(self.runs) and all(r.state == "done" for r in self.runs)


def usable_row(row: RunRow, include_stopped: bool = False) -> bool:
    """Whether a run may enter Compare: finished with test metrics; `stopped` runs only on request.

    A run whose results have no test metrics is never usable, whatever its state.
    """
    if not (row.comparable and row.metrics):
        return False
    return row.state == "done" or (include_stopped and row.state == "stopped")


def seedless_config(config: dict[str, Any]) -> dict[str, Any]:
    """`config` without the fields that only change the seed or the label (deep copy)."""
    out = json.loads(json.dumps(config, default=str))
    for path in _SEED_PATHS:
        node = out
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)
    return out


def _grouping(row: RunRow) -> dict[str, Any]:
    """What decides a run's group: its seedless config, and what its results record beyond the
    config that can change its numbers (processes, warm-start source, backbone, code)."""
    return {**seedless_config(row.config), "result_setting": row.setting}


def _key(row: RunRow) -> str:
    text = json.dumps(_grouping(row), sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _one_per_seed(rows: Sequence[RunRow]) -> tuple[tuple[RunRow, ...], tuple[RunRow, ...]]:
    """(one run per seed, the others): of runs sharing a seed the newest finished is kept."""
    newest_first = sorted(rows, key=lambda r: r.finished_at or r.created_at or _EPOCH, reverse=True)
    kept: dict[int | None, RunRow] = {}
    extra: list[RunRow] = []
    for r in newest_first:
        if r.seed in kept:
            extra.append(r)
        else:
            kept[r.seed] = r
    by_seed = sorted(kept.values(), key=lambda r: (r.seed is None, r.seed or 0))
    return tuple(by_seed), tuple(sorted(extra, key=lambda r: (r.seed is None, r.seed or 0, r.run_id)))


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(d, dict):
        return {prefix.rstrip("."): d}
    out: dict[str, Any] = {}
    for k, v in d.items():
        out.update(_flatten(v, f"{prefix}{k}."))
    return out


def flatten_config(config: dict[str, Any]) -> dict[str, Any]:
    """`{"model.lr": 0.01, ...}`: a nested config as dotted keys, in the config's order."""
    return _flatten(config)


def _base_name(row: RunRow, lang: str, with_setting: bool) -> str:
    """The model's display name (`model_display_name`), with dataset and split when the groups
    on offer span several of them."""
    name = model_display_name(row.config, lang)
    return f"{name} · {row.dataset} · {row.split}" if with_setting else name


def _disambiguate(names: list[str], groupings: list[dict[str, Any]]) -> list[str]:
    """Append the settings that differ to names that would otherwise collide (e.g. `lr=0.01`)."""
    out = list(names)
    for name in set(names):
        idx = [i for i, n in enumerate(names) if n == name]
        if len(idx) < 2:
            continue
        flat = [_flatten(groupings[i]) for i in idx]
        # Config fields first (what the user chose), then what the results record (code, processes).
        keys = sorted({k for f in flat for k in f}, key=lambda k: (k.startswith("result_setting."), k))
        differing = [k for k in keys if len({json.dumps(f.get(k), default=str) for f in flat}) > 1]
        for i, f in zip(idx, flat):
            extra = ", ".join(f"{k.rsplit('.', 1)[-1]}={_short_value(f.get(k))}" for k in differing[:3])
            out[i] = f"{name} ({extra})" if extra else name
    return out


def _short_value(value: Any) -> str:
    """A value as a label shows it: fingerprints and identities (long hex) cut to 7 digits."""
    text = str(value)
    if len(text) > 12 and all(c in "0123456789abcdef" for c in text):
        return text[:7]
    return text


def group_runs(
    rows: Sequence[RunRow], include_stopped: bool = False, stopped_mark: str = "stopped", lang: str = "en"
) -> list[RunGroup]:
    """Usable runs (`usable_row`) grouped by seedless config, in the order of each group's newest run.

    A group is named by its runs' common label, else by its model's display name in `lang`
    (`rec_app.runs.model_names`), plus dataset and split when the groups span several, plus the
    settings that differ when two names would still collide. Stopped runs (only with
    `include_stopped`) never share a group with finished ones: their metrics come from weights
    picked before the planned end. Such groups' names end with `(stopped_mark)`.
    """
    buckets: dict[str, list[RunRow]] = {}
    for row in rows:
        if usable_row(row, include_stopped):
            key = _key(row) + (":stopped" if row.state == "stopped" else "")
            buckets.setdefault(key, []).append(row)
    keys = list(buckets)
    several = len({_setting_key(RunGroup(k, "", tuple(buckets[k]))) for k in keys}) > 1
    names, shorts = [], []
    for key in keys:
        labels = {r.config.get("label") or "" for r in buckets[key]}
        label = labels.pop() if len(labels) == 1 else ""
        names.append(label or _base_name(buckets[key][0], lang, several))
        first = buckets[key][0]
        setting = f" · {first.dataset} · {first.split}" if several else ""
        shorts.append(label or model_short_name(first.config, lang) + setting)
    groupings = [_grouping(buckets[k][0]) for k in keys]
    names, shorts = _disambiguate(names, groupings), _unique(_disambiguate(shorts, groupings))
    mark = [f" ({stopped_mark})" if k.endswith(":stopped") else "" for k in keys]
    return [
        RunGroup(k, s + m, *_one_per_seed(buckets[k]), full_name=n + m) for k, n, s, m in zip(keys, names, shorts, mark)
    ]


def _unique(names: list[str]) -> list[str]:
    """`names` with a ` #2`, ` #3` ... on repeats that still collide (settings beyond the three
    `_disambiguate` shows)."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} #{seen[n]}")
    return out


def single_groups(
    rows: Sequence[RunRow], include_stopped: bool = False, stopped_mark: str = "stopped"
) -> list[RunGroup]:
    """One group per usable run (for comparing individual runs), named by the run (its full id
    where two runs would share a name); stopped runs only on request, marked `(stopped_mark)`."""
    usable = [r for r in rows if usable_row(r, include_stopped)]
    names = [r.name for r in usable]
    out = []
    for r in usable:
        name = r.name if names.count(r.name) == 1 else r.run_id
        out.append(RunGroup(r.run_id, f"{name} ({stopped_mark})" if r.state == "stopped" else name, (r,)))
    return out


def _setting_key(g: RunGroup) -> str:
    return json.dumps(data_split(g.runs[0].config if g.runs else {}), sort_keys=True, default=str)


def default_reference(selected: Sequence[RunGroup], candidates: Sequence[RunGroup] | None = None) -> str | None:
    """Key of the group Compare measures the others against by default; None when none fits.

    Never by recency: the reference is a group of finished runs (every run `done`) of the
    ID-only baseline (`mf` trained from scratch, else `pop`; MF continued is the control of
    warm-started groups, rec_app.compare.equal_budget), on the dataset and split of the other selected
    groups (the most common one among the non-baseline groups; ties: the first in `selected`), the one
    with the most seeds; ties go to the group sharing the most seeds with the others, then to
    one already selected, then to the name. `candidates` (default: `selected`) are the groups it
    may be taken from, e.g. all groups so that a baseline not yet selected can be proposed.
    """
    if not selected:
        return None
    pool = list(selected if candidates is None else candidates)
    others = [g for g in selected if g.model not in BASELINE_MODELS] or list(selected)
    settings = [_setting_key(g) for g in others if g.runs]
    if not settings:
        return None
    target = max(dict.fromkeys(settings), key=settings.count)  # most common; first wins ties
    other_seeds = {s for g in others for s in g.seeds}
    for model in BASELINE_MODELS:
        fits = [g for g in pool if g.model == model and g.all_done and _setting_key(g) == target and not _continued(g)]
        if fits:
            picked = {g.key for g in selected}
            best = min(
                fits, key=lambda g: (-len(g.runs), -len(set(g.seeds) & other_seeds), g.key not in picked, g.name, g.key)
            )
            return best.key
    return None


def _continued(group: RunGroup) -> bool:
    """MF trained on from another MF run: the equal-budget control of warm-started models
    (rec_app.compare.equal_budget), never the reference of every group."""
    model = group.runs[0].config.get("model") if group.runs else None
    return isinstance(model, dict) and bool(model.get("init_from_run"))


def initial_selection(groups: Sequence[RunGroup], n: int = 3) -> list[str]:
    """What Compare selects when nothing was chosen yet: the `n` newest groups, plus the
    reference `default_reference` would measure them against when it is not among them.

    Single runs (one run a group, the page's single-runs mode) pair up only within a seed: then
    only the groups of the newest run's seed are offered, so that the page does not open on
    runs that cannot be compared."""
    if groups and all(len(g.runs) == 1 for g in groups):
        seed = groups[0].runs[0].seed
        groups = [g for g in groups if g.runs[0].seed == seed]
    start = [g.key for g in groups[:n]]
    base = default_reference(list(groups[:n]), groups)
    return start + ([base] if base is not None and base not in start else [])


def baseline_for_run(run_id: str, rows: Sequence[RunRow]) -> str | None:
    """The run a single run is best compared with (Error analysis's default B): by the same
    rule as `default_reference`, among finished runs of the same dataset, split and seed,
    taken one run per group; else the first run of that setting and seed; None if none."""
    row = next((r for r in rows if r.run_id == run_id), None)
    if row is None:
        return None
    same = [
        r for r in rows if r.run_id != run_id and r.seed == row.seed and data_split(r.config) == data_split(row.config)
    ]
    groups = single_groups([row, *same], include_stopped=True)
    mine = [g for g in groups if g.key == run_id]
    picked = default_reference(mine, [g for g in groups if g.key != run_id]) if mine else None
    return picked if picked is not None else (same[0].run_id if same else None)
