"""Comparing two runs, or two groups of runs that differ by seed.

- `paired_compare`: one seed, paired over users (Wilcoxon signed-rank test and a paired
  bootstrap confidence interval of the mean difference).
- `compare_seeds`: several seeds, paired over users within each seed AND over seeds. Seeds are
  a source of variation of their own (the split, the init, the sampling): two runs can differ
  "significantly" over users on one seed and the other way round on the next, so pooling
  (seed, user) pairs as if they were independent users overstates the evidence. The CI comes
  from a two-level (hierarchical) paired bootstrap; the p-value from a t-test over per-seed
  differences (>= 5 seeds) or from the same bootstrap (2-4 seeds).

PROTOCOL.md calls a difference an improvement only when it is significant at 0.05; here that
means the p-value is below `alpha` AND the (1 - alpha) bootstrap interval excludes 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from rec_core.errors import ConfigError

__all__ = [
    "PairedComparison",
    "SeedDiff",
    "SeedAwareComparison",
    "compare_all",
    "compare_seeds",
    "compare_seeds_all",
    "paired_compare",
    "seed_summary",
    "METHOD_HIERARCHICAL",
    "METHOD_SEED_T",
    "METHOD_USER_WILCOXON",
    "MIN_SEEDS_T_TEST",
]

_NON_METRIC_COLUMNS = ("user", "n_relevant", "n_train")
_BOOT_BLOCK = 4_000_000  # resample indices drawn per block, bounding memory at ~32 MB


@dataclass(frozen=True)
class PairedComparison:
    metric: str  # e.g. "ndcg@10"
    n_users: int  # users both runs evaluated (with a non-NaN value in both)
    mean_a: float
    mean_b: float
    diff: float  # mean_b - mean_a
    rel_diff: float  # diff / mean_a; NaN when mean_a == 0
    ci_low: float  # paired bootstrap percentile CI of the mean difference, level 1 - alpha
    ci_high: float
    p_value: float  # Wilcoxon signed-rank, two-sided; 1.0 when every difference is zero
    significant: bool  # p_value < alpha and the CI excludes 0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict (NaN -> None)."""
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}


def _paired_values(a: pd.DataFrame, b: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Values of `metric` for the same users in both runs, aligned: (n,), (n,) float64."""
    for name, df in (("a", a), ("b", b)):
        if "user" not in df.columns or metric not in df.columns:
            raise ConfigError("metric", f"run {name}'s per-user table lacks column 'user' or {metric!r}")
        if df["user"].duplicated().any():
            raise ConfigError("per_user", f"run {name}'s per-user table repeats users")
    merged = a[["user", metric]].merge(b[["user", metric]], on="user", how="inner", suffixes=("_a", "_b"))
    if len(merged) != len(a) or len(merged) != len(b):
        raise ConfigError(
            "per_user",
            f"the runs evaluated different users (run a: {len(a)}, run b: {len(b)}, shared: {len(merged)}); "
            "compare runs made on the same split",
        )
    va = merged[f"{metric}_a"].to_numpy(dtype=np.float64)
    vb = merged[f"{metric}_b"].to_numpy(dtype=np.float64)
    keep = ~(np.isnan(va) | np.isnan(vb))  # e.g. recall of a user with no relevant items
    return va[keep], vb[keep]


def _bootstrap_means(d: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Means of `n_boot` resamples (with replacement) of `d`: (n_boot,), vectorised in blocks."""
    return _resample_means(d, n_boot, np.random.default_rng(seed))


def _resample_means(d: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Means of `n_boot` resamples (with replacement) of `d`, drawn from `rng`, in blocks."""
    n = len(d)
    rows = max(1, _BOOT_BLOCK // n)
    means = np.empty(n_boot, dtype=np.float64)
    for start in range(0, n_boot, rows):
        stop = min(n_boot, start + rows)
        means[start:stop] = d[rng.integers(0, n, size=(stop - start, n))].mean(1)
    return means


def paired_compare(
    per_user_a: pd.DataFrame,
    per_user_b: pd.DataFrame,
    metric: str,
    *,
    n_boot: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> PairedComparison:
    """Paired comparison of run b against run a on `metric` over the users both evaluated.

    The per-user tables are `EvalResult.per_user` (column `user` plus metric columns). Users
    must be the same in both runs; otherwise ConfigError names both counts.
    """
    if n_boot < 1:
        raise ConfigError("n_boot", f"must be >= 1, got {n_boot}")
    if not 0.0 < alpha < 1.0:
        raise ConfigError("alpha", f"must be in (0, 1), got {alpha}")
    va, vb = _paired_values(per_user_a, per_user_b, metric)
    n = len(va)
    if n == 0:
        raise ConfigError("per_user", f"no user has a value of {metric!r} in both runs")
    d = vb - va
    mean_a, mean_b = float(va.mean()), float(vb.mean())
    diff = float(d.mean())
    means = _bootstrap_means(d, n_boot, seed)
    ci_low, ci_high = (float(x) for x in np.quantile(means, [alpha / 2, 1 - alpha / 2]))
    if not np.any(d != 0):
        p_value = 1.0  # scipy's wilcoxon rejects all-zero differences; nothing differs
    else:
        p_value = float(stats.wilcoxon(d, alternative="two-sided").pvalue)
    return PairedComparison(
        metric=metric,
        n_users=n,
        mean_a=mean_a,
        mean_b=mean_b,
        diff=diff,
        rel_diff=diff / mean_a if mean_a != 0 else float("nan"),
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=p_value,
        significant=bool(p_value < alpha and (ci_low > 0 or ci_high < 0)),
    )


def compare_all(
    per_user_a: pd.DataFrame,
    per_user_b: pd.DataFrame,
    metrics: list[str] | None = None,
    *,
    n_boot: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> list[PairedComparison]:
    """`paired_compare` for each metric (default: every metric column both tables share, in
    run a's column order)."""
    if metrics is None:
        metrics = [c for c in per_user_a.columns if c not in _NON_METRIC_COLUMNS and c in per_user_b.columns]
    return [paired_compare(per_user_a, per_user_b, m, n_boot=n_boot, alpha=alpha, seed=seed) for m in metrics]


def seed_summary(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; 0.0 for a single value) over seeds."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        raise ConfigError("values", "seed_summary needs at least one value")
    std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return float(arr.mean()), std


# -- over seeds ---------------------------------------------------------------------------------------
METHOD_HIERARCHICAL = "hierarchical-bootstrap"  # 2-4 seeds: CI and p from the two-level bootstrap
METHOD_SEED_T = "seed-t-test"  # >= 5 seeds: t-test over per-seed differences, CI from the bootstrap
METHOD_USER_WILCOXON = "user-wilcoxon"  # 1 seed: per-user Wilcoxon + paired bootstrap (users only)
# A Wilcoxon signed-rank test over 5 seeds cannot go below p = 2 / 2**5 = 0.0625, so over seeds
# the test is a t-test, and only from 5 seeds on (fewer leave it with 1-3 degrees of freedom).
MIN_SEEDS_T_TEST = 5


@dataclass(frozen=True)
class SeedDiff:
    """One seed's paired comparison (b - a over the users of that seed's split)."""

    seed: int | None  # None: runs without a recorded seed
    n_users: int
    mean_a: float
    mean_b: float
    diff: float
    p_value: float  # per-user Wilcoxon within this seed alone: says nothing about other seeds


@dataclass(frozen=True)
class SeedAwareComparison:
    """Group b against group a on one metric, paired over users within seeds and over seeds."""

    metric: str
    seeds: tuple[int | None, ...]  # the seeds both groups have (the only ones used), ascending
    n_seeds: int
    n_users: int  # paired users summed over the seeds
    mean_a: float  # mean over seeds of the per-seed mean of a (each seed weighs the same)
    mean_b: float
    diff: float  # mean over seeds of the per-seed mean difference b - a (= mean_b - mean_a)
    rel_diff: float  # diff / mean_a; NaN when mean_a == 0
    ci_low: float  # percentile CI at level 1 - alpha (hierarchical bootstrap; 1 seed: over users)
    ci_high: float
    p_value: float
    significant: bool  # p_value < alpha and the CI excludes 0
    method: str  # METHOD_HIERARCHICAL | METHOD_SEED_T | METHOD_USER_WILCOXON
    per_seed: tuple[SeedDiff, ...]
    note: str  # what the numbers rest on, in plain words
    unpaired_seeds: tuple[int | None, ...] = ()  # seeds only one side has: left out
    alpha: float = 0.05
    n_boot: int = 2000

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict (NaN -> None; per_seed as a list of dicts)."""
        out = asdict(self)
        out["seeds"], out["unpaired_seeds"] = list(self.seeds), list(self.unpaired_seeds)

        def clean(v: object) -> object:
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, (list, tuple)):
                return [clean(x) for x in v]
            return v

        return {k: clean(v) for k, v in out.items()}


def _seed_order(seed: object) -> tuple[int, str]:
    # Seeds are ints; a run without a recorded seed (None) sorts last instead of failing.
    return (0, f"{seed:012d}") if isinstance(seed, int) else (1, str(seed))


def _user_wilcoxon(d: np.ndarray) -> float:
    if not np.any(d != 0):
        return 1.0  # scipy's wilcoxon rejects all-zero differences; nothing differs
    return float(stats.wilcoxon(d, alternative="two-sided").pvalue)


def _hierarchical_means(diffs: list[np.ndarray], n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Two-level paired bootstrap of the mean over seeds of the mean per-user difference.

    Each replicate draws len(diffs) seeds with replacement, then, for every drawn seed
    independently (a seed drawn twice gets two user resamples), that seed's users with
    replacement. Vectorised: all (replicate, slot) cells that drew seed i are filled at once
    with user-resample means of seed i, in blocks that bound memory.
    """
    s = len(diffs)
    picks = rng.integers(0, s, size=(n_boot, s))
    slots = np.empty((n_boot, s), dtype=np.float64)
    for i, d in enumerate(diffs):
        chosen = picks == i
        k = int(chosen.sum())
        if k:
            slots[chosen] = _resample_means(d, k, rng)
    return slots.mean(axis=1)


def compare_seeds(
    ref: Mapping[int | None, pd.DataFrame],
    other: Mapping[int | None, pd.DataFrame],
    metric: str,
    *,
    n_boot: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> SeedAwareComparison:
    """Group `other` (b) against group `ref` (a) on `metric`, over the seeds both have.

    Each mapping is seed -> per-user test table (`user` plus metric columns, as
    `EvalResult.per_user`). The two runs of one seed share the split, so their users pair up
    within that seed; users of different seeds are never paired. Seeds that only one side has
    are left out (`unpaired_seeds`, and the note says so).

    - >= 2 seeds: CI from a hierarchical paired bootstrap (seeds, then users within them).
      p-value: with >= MIN_SEEDS_T_TEST seeds a t-test over the per-seed mean differences
      (`seed-t-test`), else the two-sided bootstrap p-value of the same resamples
      (`hierarchical-bootstrap`), floored at 1 / n_boot.
    - 1 seed: `paired_compare` (per-user Wilcoxon and paired bootstrap), `user-wilcoxon`; the
      note says that seed variation is not covered.

    Deterministic given `seed`. ConfigError when no seed is shared, a table lacks the metric,
    or a seed's runs evaluated different users.
    """
    if n_boot < 1:
        raise ConfigError("n_boot", f"must be >= 1, got {n_boot}")
    if not 0.0 < alpha < 1.0:
        raise ConfigError("alpha", f"must be in (0, 1), got {alpha}")
    common = sorted((s for s in ref if s in other), key=_seed_order)
    unpaired = tuple(sorted({s for s in ref if s not in other} | {s for s in other if s not in ref}, key=_seed_order))
    if not common:
        raise ConfigError(
            "seeds",
            f"the two groups have no seed in common (a: {sorted(ref, key=_seed_order)}, "
            f"b: {sorted(other, key=_seed_order)}), so their users cannot be paired",
        )
    left_out = f" Seeds only one side has were left out: {', '.join(map(str, unpaired))}." if unpaired else ""

    if len(common) == 1:
        s = common[0]
        c = paired_compare(ref[s], other[s], metric, n_boot=n_boot, alpha=alpha, seed=seed)
        note = (
            f"One seed only (seed {s}): the p-value (Wilcoxon signed-rank over {c.n_users} users) and "
            f"the CI cover the variation over users only; seed variation is not covered, and another "
            f"seed may come out differently, so run more seeds before calling an improvement.{left_out}"
        )
        return SeedAwareComparison(
            metric=metric,
            seeds=(s,),
            n_seeds=1,
            n_users=c.n_users,
            mean_a=c.mean_a,
            mean_b=c.mean_b,
            diff=c.diff,
            rel_diff=c.rel_diff,
            ci_low=c.ci_low,
            ci_high=c.ci_high,
            p_value=c.p_value,
            significant=c.significant,
            method=METHOD_USER_WILCOXON,
            per_seed=(SeedDiff(s, c.n_users, c.mean_a, c.mean_b, c.diff, c.p_value),),
            note=note,
            unpaired_seeds=unpaired,
            alpha=alpha,
            n_boot=n_boot,
        )

    diffs: list[np.ndarray] = []
    per_seed: list[SeedDiff] = []
    for s in common:
        va, vb = _paired_values(ref[s], other[s], metric)
        if len(va) == 0:
            raise ConfigError("per_user", f"no user of seed {s} has a value of {metric!r} in both runs")
        d = vb - va
        diffs.append(d)
        per_seed.append(SeedDiff(s, len(d), float(va.mean()), float(vb.mean()), float(d.mean()), _user_wilcoxon(d)))
    seed_diffs = np.array([p.diff for p in per_seed])
    mean_a = float(np.mean([p.mean_a for p in per_seed]))
    mean_b = float(np.mean([p.mean_b for p in per_seed]))
    diff = float(seed_diffs.mean())
    boot = _hierarchical_means(diffs, n_boot, np.random.default_rng(seed))
    ci_low, ci_high = (float(x) for x in np.quantile(boot, [alpha / 2, 1 - alpha / 2]))
    n_seeds = len(common)
    if n_seeds >= MIN_SEEDS_T_TEST:
        method = METHOD_SEED_T
        if np.ptp(seed_diffs) == 0:  # no spread over seeds: the t statistic is undefined
            p_value = 1.0 if seed_diffs[0] == 0 else 0.0
        else:
            p_value = float(stats.ttest_1samp(seed_diffs, 0.0).pvalue)
        how = (
            f"p-value from a paired t-test over the {n_seeds} per-seed mean differences; CI from a two-level "
            f"bootstrap (seeds, then users within them)"
        )
    else:
        method = METHOD_HIERARCHICAL
        share = min(float(np.mean(boot <= 0)), float(np.mean(boot >= 0)))
        p_value = min(1.0, max(2.0 * share, 1.0 / n_boot))
        how = (
            f"CI and p-value from a two-level bootstrap (seeds, then users within them); with {n_seeds} seeds "
            f"the seed variation is covered but coarsely estimated ({MIN_SEEDS_T_TEST} or more seeds allow a "
            f"t-test over seeds)"
        )
    n_users = int(sum(len(d) for d in diffs))
    note = f"Paired over {n_users} users in {n_seeds} seeds ({', '.join(map(str, common))}): {how}."
    if (seed_diffs > 0).any() and (seed_diffs < 0).any():
        signs = ", ".join(f"seed {p.seed}: {p.diff:+.4f}" for p in per_seed)
        note += f" The seeds disagree on the direction ({signs})."
    note += left_out
    return SeedAwareComparison(
        metric=metric,
        seeds=tuple(common),
        n_seeds=n_seeds,
        n_users=n_users,
        mean_a=mean_a,
        mean_b=mean_b,
        diff=diff,
        rel_diff=diff / mean_a if mean_a != 0 else float("nan"),
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=p_value,
        significant=bool(p_value < alpha and (ci_low > 0 or ci_high < 0)),
        method=method,
        per_seed=tuple(per_seed),
        note=note,
        unpaired_seeds=unpaired,
        alpha=alpha,
        n_boot=n_boot,
    )


def compare_seeds_all(
    ref: Mapping[int | None, pd.DataFrame],
    other: Mapping[int | None, pd.DataFrame],
    metrics: list[str] | None = None,
    *,
    n_boot: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> list[SeedAwareComparison]:
    """`compare_seeds` for each metric (default: every metric column all tables share, in the
    column order of the reference's first seed)."""
    if metrics is None:
        tables = [*ref.values(), *other.values()]
        if not tables:
            raise ConfigError("seeds", "no per-user tables to compare")
        metrics = [c for c in tables[0].columns if c not in _NON_METRIC_COLUMNS and all(c in t.columns for t in tables)]
    return [compare_seeds(ref, other, m, n_boot=n_boot, alpha=alpha, seed=seed) for m in metrics]
