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
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from rec_core.errors import ConfigError, RecCoreError
from rec_core.evaluate import seed_summary
from rec_core.evaluate.compare import SeedAwareComparison, compare_seeds, holm_adjust
from rec_app.compare.groups import RunGroup, setting_mismatch

__all__ = [
    "COMPARISON_COLUMNS",
    "tested_weights_table",
    "TABLE_METRICS",
    "ITEM_SEGMENT_ORDER",
    "USER_SEGMENT_ORDER",
    "GroupComparison",
    "summary_table",
    "format_mean_std",
    "compare_groups",
    "differences_table",
    "adjust_for_multiplicity",
    "verdict",
    "segment_table",
    "PRIMARY_METRIC",
    "random_reference",
]

TABLE_METRICS: tuple[str, ...] = tuple(f"{m}@{k}" for m in ("hit", "ndcg", "recall", "mrr") for k in (5, 10, 20))
ITEM_SEGMENT_ORDER: tuple[str, ...] = ("cold", "tail", "torso", "head")
USER_SEGMENT_ORDER: tuple[str, ...] = ("low", "mid", "high")
PRIMARY_METRIC = "ndcg@10"
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
