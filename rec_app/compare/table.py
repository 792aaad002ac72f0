"""The Compare page's numbers: groups of runs that differ only by seed, mean +- std tables,
paired differences to a reference (seed-aware: see `rec_core.evaluate.compare.compare_seeds`),
the default reference, the random-ranking reference, segments, CSV and LaTeX.

Pure functions over `RunRow`s and per-user tables; reading files is the caller's business
(passed in as functions), so everything here is testable without a run store.

Pairing: two runs made with the same seed share the split, so their per-user test values
pair up user by user, within that seed. A group of several seeds is compared with another
group over the seeds both have by `compare_seeds`: the seed is the unit (a t-test over the
per-seed mean differences), and (seed, user) pairs are never pooled as if they were
independent users. A page shows many comparisons at once: `adjust_for_multiplicity` applies
Holm's adjustment over the ones shown.

Reference rule (`default_reference`): never the newest group, but finished runs of the ID-only
baseline (`mf`, else `pop`) on the same dataset and split as the groups compared, the one with
the most seeds. Groups on another dataset or split than the reference are not compared.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from rec_core.errors import ConfigError, RecCoreError
from rec_core.evaluate import seed_summary
from rec_core.evaluate.compare import SeedAwareComparison, compare_seeds, holm_adjust
from rec_app.runs.model_names import model_display_name, model_short_name
from rec_app.runs.table import RunRow
from rec_core.setting import data_split, describe_setting, setting_mismatch

__all__ = [
    "COMPARISON_COLUMNS",
    "tested_weights_table",
    "TABLE_METRICS",
    "ITEM_SEGMENT_ORDER",
    "USER_SEGMENT_ORDER",
    "RunGroup",
    "GroupComparison",
    "group_runs",
    "single_groups",
    "summary_table",
    "format_mean_std",
    "compare_groups",
    "differences_table",
    "adjust_for_multiplicity",
    "verdict",
    "segment_table",
    "seedless_config",
    "BASELINE_MODELS",
    "PRIMARY_METRIC",
    "usable_row",
    "data_split",
    "describe_setting",
    "setting_mismatch",
    "default_reference",
    "initial_selection",
    "baseline_for_run",
    "random_reference",
    "flatten_config",
]

TABLE_METRICS: tuple[str, ...] = tuple(f"{m}@{k}" for m in ("hit", "ndcg", "recall", "mrr") for k in (5, 10, 20))
ITEM_SEGMENT_ORDER: tuple[str, ...] = ("cold", "tail", "torso", "head")
USER_SEGMENT_ORDER: tuple[str, ...] = ("low", "mid", "high")
_SEED_PATHS = (("seed",), ("label",), ("split", "seed"), ("train", "seed"))
BASELINE_MODELS: tuple[str, ...] = ("mf", "pop")  # the default reference, in order of preference
PRIMARY_METRIC = "ndcg@10"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)  # sorts runs without a time stamp last
# What `differences_table` says of a group against the reference for one metric (the seed-aware comparison).
# p_value and the CI are seed-level (t-test over seeds; NaN with one seed); p_adjusted is Holm's over
# the comparisons shown together (n_compared); user_p_value is the secondary, user-level view.
COMPARISON_COLUMNS = (
    "diff",
    "rel_diff",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "n_compared",
    "n_pairs",
    "n_seeds",
    "method",
    "verdict",
    "seeds_needed",
    "user_p_value",
)


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


def format_mean_std(mean: float, std: float, n: int, digits: int = 4) -> str:
    """`0.1234 ± 0.0056` over n > 1 seeds, `0.1234` for one run, `–` when missing."""
    if mean is None or not math.isfinite(mean):
        return "–"
    if n > 1 and std is not None and math.isfinite(std):
        return f"{mean:.{digits}f} ± {std:.{digits}f}"
    return f"{mean:.{digits}f}"


def summary_table(groups: Sequence[RunGroup], metrics: Sequence[str] = TABLE_METRICS) -> pd.DataFrame:
    """One row per group: `group` (short name), `group_full` (full name), `n` (distinct seeds:
    one run each), `duplicates` (further runs of a seed the group has, left out), then `<metric>`
    (mean) and `<metric> std` columns."""
    records = []
    for g in groups:
        rec: dict[str, Any] = {
            "group": g.name,
            "group_full": g.title,
            "n": len(g.runs),
            "duplicates": len(g.duplicates),
        }
        for m in metrics:
            values = [r.metrics[m] for r in g.runs if m in r.metrics and math.isfinite(r.metrics[m])]
            mean, std = seed_summary(values) if values else (math.nan, math.nan)
            rec[m], rec[f"{m} std"] = mean, std
        records.append(rec)
    columns = ["group", "group_full", "n", "duplicates"] + [c for m in metrics for c in (m, f"{m} std")]
    return pd.DataFrame.from_records(records, columns=columns)


@dataclass(frozen=True)
class GroupComparison:
    """Seed-aware comparison of one group against the reference, or why it could not be made."""

    group: str
    reference: str
    seeds: tuple[int | None, ...]  # the seeds whose runs were paired (both groups have them)
    n_pairs: int  # paired users, summed over those seeds
    rows: tuple[SeedAwareComparison, ...] = ()
    error: str | None = None
    unpaired_seeds: tuple[int | None, ...] = ()  # seeds only one of the two groups has: left out

    @property
    def method(self) -> str | None:
        """`seed-t-test` or `user-wilcoxon` (one seed); None when not compared."""
        return self.rows[0].method if self.rows else None


def _seed_tables(
    ref: RunGroup, other: RunGroup, read: Callable[[str], pd.DataFrame]
) -> tuple[dict[int | None, pd.DataFrame], dict[int | None, pd.DataFrame]]:
    """seed -> per-user table for each side, read only for the seeds both groups have."""
    common = [s for s in ref.seeds if s in set(other.seeds)]
    if not common:
        raise ConfigError(
            "seeds",
            f"{other.name!r} (seeds {_seed_list(other.seeds)}) and {ref.name!r} (seeds "
            f"{_seed_list(ref.seeds)}) have no seed in common, so their users cannot be "
            "paired: each seed has its own split",
        )
    tables_a = {s: read(_run_of(ref, s)) for s in common}
    tables_b = {s: read(_run_of(other, s)) for s in common}
    return tables_a, tables_b


def _run_of(group: RunGroup, seed: int | None) -> str:
    """The id of `group`'s run of `seed` (a seed of the group's own list)."""
    row = group.run_for_seed(seed)
    assert row is not None, (group.name, seed)
    return row.run_id


def _seed_list(seeds: Sequence[int | None]) -> str:
    return ", ".join("?" if s is None else str(s) for s in seeds)


def compare_groups(
    reference: RunGroup,
    others: Sequence[RunGroup],
    read: Callable[[str], pd.DataFrame],
    metrics: Sequence[str] = TABLE_METRICS,
    *,
    n_boot: int = 2000,
    alpha: float = 0.05,
) -> list[GroupComparison]:
    """Each of `others` against `reference` on `metrics` with `compare_seeds`; `read(run_id)`
    gives a per-user table.

    A group that cannot be compared (another dataset or split than the reference, no shared
    seed, different users, unreadable table) gets a GroupComparison with `error` set; the
    others are unaffected.
    """
    out = []
    ref_config = reference.runs[0].config if reference.runs else {}
    for g in others:
        if g.key == reference.key:
            continue
        mismatch = setting_mismatch(ref_config, g.runs[0].config if g.runs else {})
        if mismatch is not None:
            out.append(
                GroupComparison(
                    g.name,
                    reference.name,
                    (),
                    0,
                    error=(
                        f"{g.name!r} is on {mismatch[1]} but the reference {reference.name!r} is on {mismatch[0]}; "
                        "runs on different datasets or splits cannot be compared"
                    ),
                )
            )
            continue
        try:
            a, b = _seed_tables(reference, g, read)
            present = [m for m in metrics if all(m in t.columns for t in (*a.values(), *b.values()))]
            rows = [compare_seeds(a, b, m, n_boot=n_boot, alpha=alpha) for m in present]
            n = rows[0].n_users if rows else 0
            seeds = rows[0].seeds if rows else tuple(a)
            unpaired = tuple(s for s in (*reference.seeds, *g.seeds) if s not in a)
            out.append(
                GroupComparison(
                    g.name, reference.name, seeds, n, tuple(rows), unpaired_seeds=tuple(dict.fromkeys(unpaired))
                )
            )
        except (RecCoreError, OSError, KeyError, ValueError) as exc:
            out.append(GroupComparison(g.name, reference.name, (), 0, error=str(exc)))
    return out


def random_reference(group: RunGroup, read_results: Callable[[str], dict[str, Any] | None]) -> dict[str, float]:
    """Expected metrics of a uniformly random ranking, averaged over the group's runs (seeds).

    From `results["test"]["primary"]["random"]`; runs written before it existed (or with an
    unreadable results.json) are skipped, so {} means no run of the group has it.
    """
    values: dict[str, list[float]] = {}
    for run in group.runs:
        try:
            random = (read_results(run.run_id) or {})["test"]["primary"]["random"]
        except (KeyError, TypeError, RecCoreError, OSError, ValueError):
            continue
        if not isinstance(random, dict):
            continue
        for m, v in random.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                values.setdefault(str(m), []).append(float(v))
    return {m: sum(v) / len(v) for m, v in values.items()}


def verdict(c: SeedAwareComparison) -> str:
    """`better` / `worse` only from a significant seed-level test (after Holm's adjustment when
    the comparison was shown among others); `inconclusive`, `untested` (one seed) or
    `identical` otherwise."""
    return c.verdict


def adjust_for_multiplicity(comparisons: Sequence[GroupComparison], metrics: Sequence[str]) -> list[GroupComparison]:
    """The comparisons with Holm-adjusted p-values over every (group, metric) in `metrics`: the
    family a page or report shows together, so that 20 comparisons do not make a false star.
    Rows of other metrics are left as they are (adjusted over nothing)."""
    family = [(i, j) for i, gc in enumerate(comparisons) for j, c in enumerate(gc.rows) if c.metric in set(metrics)]
    adjusted = holm_adjust([comparisons[i].rows[j] for i, j in family])
    rows = [list(gc.rows) for gc in comparisons]
    for (i, j), c in zip(family, adjusted):
        rows[i][j] = c
    return [dataclasses.replace(gc, rows=tuple(r)) for gc, r in zip(comparisons, rows)]


def differences_table(comparisons: Sequence[GroupComparison], random: dict[str, float] | None = None) -> pd.DataFrame:
    """Long table: group, metric, reference, value, diff, rel_diff, ci_low, ci_high, p_value,
    n_pairs, n_seeds, method, verdict, x_random (one row per group and metric; failed comparisons
    are left out). `x_random` = value / the random ranking's expected value of that metric
    (`random`, e.g. `random_reference` of the reference group); NaN where unknown."""
    random = random or {}
    records = [
        {
            "group": gc.group,
            "metric": c.metric,
            "reference": c.mean_a,
            "value": c.mean_b,
            "diff": c.diff,
            "rel_diff": c.rel_diff,
            "ci_low": c.ci_low,
            "ci_high": c.ci_high,
            "p_value": c.p_value,
            "p_adjusted": c.p_adjusted,
            "n_compared": c.n_compared,
            "n_pairs": c.n_users,
            "n_seeds": c.n_seeds,
            "method": c.method,
            "verdict": verdict(c),
            "seeds_needed": c.seeds_needed,
            "user_p_value": c.user_p_value,
            "x_random": c.mean_b / random[c.metric] if random.get(c.metric) else math.nan,
        }
        for gc in comparisons
        if gc.error is None
        for c in gc.rows
    ]
    columns = ["group", "metric", "reference", "value", *COMPARISON_COLUMNS, "x_random"]
    return pd.DataFrame.from_records(records, columns=columns)


def _segment_name(label: str) -> tuple[str, str] | None:
    """("item", "tail") or ("user", "low") from a results segment key; None for others."""
    if label in ITEM_SEGMENT_ORDER:
        return "item", label
    if label.startswith("users:"):
        name = label[len("users:") :].split(" ", 1)[0]
        if name in USER_SEGMENT_ORDER:
            return "user", name
    return None


def segment_table(
    groups: Sequence[RunGroup], read_results: Callable[[str], dict[str, Any] | None], metric: str
) -> pd.DataFrame:
    """Per group and segment: kind (item | user), segment, mean, std over seeds, n_users (mean).

    Segments without users (e.g. no cold items in a ratio split) are left out.
    """
    records = []
    for g in groups:
        values: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for run in g.runs:
            try:
                segments = (read_results(run.run_id) or {})["test"]["primary"]["segments"]
            except (KeyError, TypeError):
                continue
            for label, seg in segments.items():
                named = _segment_name(label)
                value = seg.get(metric) if isinstance(seg, dict) else None
                if named is None or value is None or not seg.get("n_users"):
                    continue
                values.setdefault(named, []).append((float(value), float(seg["n_users"])))
        for (kind, name), pairs in values.items():
            mean, std = seed_summary([v for v, _ in pairs])
            records.append(
                {
                    "group": g.name,
                    "kind": kind,
                    "segment": name,
                    "mean": mean,
                    "std": std,
                    "n_runs": len(pairs),
                    "n_users": sum(n for _, n in pairs) / len(pairs),
                }
            )
    frame = pd.DataFrame.from_records(records, columns=["group", "kind", "segment", "mean", "std", "n_runs", "n_users"])
    order = {s: i for i, s in enumerate(ITEM_SEGMENT_ORDER + USER_SEGMENT_ORDER)}
    return frame.sort_values(by="segment", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def tested_weights_table(groups: Sequence[RunGroup]) -> pd.DataFrame:
    """Which weights each run tested: group, seed, best epoch, its training phase and the run's
    completion note (e.g. scheme 3 whose dynamic phase never beat the cached one). One row per
    run; `best_phase` is None for runs that predate phase records."""
    records = [
        {
            "group": g.name,
            "seed": r.seed,
            "best_epoch": r.best_epoch,
            "best_phase": r.best_phase,
            "summary": r.completion.get("summary") or r.best_text,
        }
        for g in groups
        for r in g.runs
    ]
    return pd.DataFrame.from_records(records, columns=["group", "seed", "best_epoch", "best_phase", "summary"])
