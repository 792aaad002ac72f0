"""Comparing two runs, or two groups of runs that differ by seed.

- `paired_compare`: one seed, paired over users (Wilcoxon signed-rank test and a paired
  bootstrap confidence interval of the mean difference). A statement about users only.
- `compare_seeds`: several seeds. The seed is the unit of a claim (PROTOCOL.md): the split, the
  init and the sampling change with it, and with the 2-5 seeds a live demo has, seed noise is
  usually larger than user noise. Each seed's mean paired difference is one observation; the
  test is a t-test over them (S - 1 degrees of freedom) and the CI its t-interval, at every
  S >= 2. Simulated under a null (tests/test_eval_compare_null.py) this calls noise
  significant at the nominal rate at 2-5 seeds, where the former two-level bootstrap with a
  floored p-value did so 15-41% of the time. With one seed there is no verdict (`untested`).
- `holm_adjust`: many comparisons shown together (groups x metrics) get Holm-adjusted p-values,
  so a page of 20 comparisons does not produce a false star.

An improvement is called (`better`) only when the seed-level test is significant at `alpha`
after adjustment; otherwise `inconclusive`, with the seeds an 80%-power test would need.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from rec_core.errors import ConfigError
from rec_core.evaluate.paired import (
    NON_METRIC_COLUMNS,
    PairedComparison,
    check_test_settings,
    compare_all,
    paired_compare,
    paired_values,
    resample_means,
    seed_summary,
)

__all__ = [
    "PairedComparison",
    "SeedDiff",
    "SeedAwareComparison",
    "compare_all",
    "compare_seeds",
    "compare_seeds_all",
    "paired_compare",
    "seed_summary",
    "holm",
    "holm_adjust",
    "seed_level_test",
    "seeds_needed",
    "METHOD_SEED_T",
    "METHOD_USER_WILCOXON",
    "MIN_SEEDS_T_TEST",
    "VERDICTS",
]

# -- over seeds ---------------------------------------------------------------------------------------
METHOD_SEED_T = "seed-t-test"  # >= 2 seeds: t-test over the per-seed mean differences, t-interval
METHOD_USER_WILCOXON = "user-wilcoxon"  # 1 seed: per-user Wilcoxon + paired bootstrap (users only)
# The seed is the unit of a claim (PROTOCOL.md): a verdict needs a test over seeds, which needs a
# spread over seeds, hence two seeds at least. A Wilcoxon or sign-flip test over seeds has no
# resolution at these counts (5 seeds: p >= 2 / 2**5 = 0.0625), so the test is a t-test with S - 1
# degrees of freedom at every S >= 2; its interval is wide at 2-3 seeds because it has to be.
MIN_SEEDS_T_TEST = 2
POWER = 0.8  # the power a seeds-needed estimate aims for
MAX_SEEDS_NEEDED = 100  # beyond this the estimate says "more than 100" (None)

# Verdicts. Only `better` and `worse` claim anything, and only from a seed-level test.
BETTER, WORSE, INCONCLUSIVE, UNTESTED, IDENTICAL = "better", "worse", "inconclusive", "untested", "identical"
VERDICTS = (BETTER, WORSE, INCONCLUSIVE, UNTESTED, IDENTICAL)


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
    """Group b against group a on one metric, paired over users within seeds and tested over seeds.

    The verdict rests on the seed-level test only; the user-level fields are a secondary view
    (given these seeds, is the difference larger than the spread over users?) and never decide.
    """

    metric: str
    seeds: tuple[int | None, ...]  # the seeds both groups have (the only ones used), ascending
    n_seeds: int
    n_users: int  # paired users summed over the seeds
    mean_a: float  # mean over seeds of the per-seed mean of a (each seed weighs the same)
    mean_b: float
    diff: float  # mean over seeds of the per-seed mean difference b - a (= mean_b - mean_a)
    rel_diff: float  # diff / mean_a; NaN when mean_a == 0
    ci_low: float  # t-interval over seeds at level 1 - alpha; NaN with one seed (see user_ci_*)
    ci_high: float
    p_value: float  # t-test over the per-seed differences; NaN with one seed (see user_p_value)
    significant: bool  # seed-level: p_adjusted < alpha with >= 2 seeds; never with one seed
    method: str  # METHOD_SEED_T | METHOD_USER_WILCOXON
    per_seed: tuple[SeedDiff, ...]
    note: str  # what the numbers rest on, in plain words
    unpaired_seeds: tuple[int | None, ...] = ()  # seeds only one side has: left out
    alpha: float = 0.05
    n_boot: int = 2000
    verdict: str = INCONCLUSIVE  # one of VERDICTS
    seeds_needed: int | None = None  # inconclusive: seeds for 80% power at the observed diff and spread
    seed_sd: float = float("nan")  # sample sd of the per-seed differences (NaN with one seed)
    p_adjusted: float = float("nan")  # Holm-adjusted over the comparisons shown together (= p alone)
    n_compared: int = 1  # how many seed-level tests the Holm adjustment covered
    user_p_value: float = float("nan")  # secondary: Wilcoxon over every paired (seed, user) difference
    user_ci_low: float = float("nan")  # secondary: bootstrap over users within each seed (seeds fixed)
    user_ci_high: float = float("nan")

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


def seeds_needed(diff: float, sd: float, *, alpha: float = 0.05, power: float = POWER) -> int | None:
    """Seeds (in all) a two-sided t-test over per-seed differences needs to detect `diff` with
    `power`, if the per-seed differences spread with standard deviation `sd`.

    Exact power from the non-central t distribution. None when there is nothing to detect
    (diff 0 or not finite) or more than MAX_SEEDS_NEEDED seeds would be needed.
    """
    if not (math.isfinite(diff) and math.isfinite(sd)) or diff == 0:
        return None
    if sd == 0:
        return MIN_SEEDS_T_TEST
    n = np.arange(MIN_SEEDS_T_TEST, MAX_SEEDS_NEEDED + 1)
    df, ncp = n - 1, abs(diff) / sd * np.sqrt(n)
    crit = stats.t.ppf(1 - alpha / 2, df)
    reached = np.flatnonzero(stats.nct.sf(crit, df, ncp) + stats.nct.cdf(-crit, df, ncp) >= power)
    return int(n[reached[0]]) if reached.size else None


def _verdict(method: str, p: float, alpha: float, diff: float, identical: bool) -> str:
    if identical:
        return IDENTICAL
    if method != METHOD_SEED_T:
        return UNTESTED
    if p < alpha:
        return BETTER if diff > 0 else WORSE
    return INCONCLUSIVE


def seed_level_test(seed_diffs: Sequence[float], alpha: float = 0.05) -> tuple[float, float, float, float]:
    """(p, CI low, CI high, sd) of the seed-level test of `compare_seeds` over per-seed mean
    differences (>= 2): for restating a stored comparison from its per-seed values."""
    diffs = np.asarray(seed_diffs, dtype=np.float64)
    if diffs.size < MIN_SEEDS_T_TEST:
        raise ConfigError("seeds", f"a seed-level test needs at least {MIN_SEEDS_T_TEST} seeds, got {diffs.size}")
    return _seed_t(diffs, alpha)


def _seed_t(seed_diffs: np.ndarray, alpha: float) -> tuple[float, float, float, float]:
    """(p, CI low, CI high, sd) of a one-sample t-test of the per-seed differences against 0."""
    n = len(seed_diffs)
    mean, sd = float(seed_diffs.mean()), float(seed_diffs.std(ddof=1))
    if sd == 0:  # no spread over seeds: t is undefined; all equal to the mean
        return (1.0 if mean == 0 else 0.0), mean, mean, 0.0
    se = sd / math.sqrt(n)
    p = float(2 * stats.t.sf(abs(mean) / se, n - 1))
    half = float(stats.t.ppf(1 - alpha / 2, n - 1)) * se
    return p, mean - half, mean + half, sd


def _user_level(diffs: list[np.ndarray], n_boot: int, alpha: float, seed: int) -> tuple[float, float, float]:
    """Secondary, user-level view: (Wilcoxon p over all paired differences, bootstrap CI low,
    high of the mean over seeds of per-seed means, users resampled within each seed)."""
    rng = np.random.default_rng(seed)
    boot = np.mean([resample_means(d, n_boot, rng) for d in diffs], axis=0)
    low, high = (float(x) for x in np.quantile(boot, [alpha / 2, 1 - alpha / 2]))
    return _user_wilcoxon(np.concatenate(diffs)), low, high


def _pair_by_seed(
    ref: Mapping[int | None, pd.DataFrame], other: Mapping[int | None, pd.DataFrame], metric: str
) -> tuple[list[int | None], tuple[int | None, ...], list[np.ndarray], list[SeedDiff]]:
    """The seeds both sides have (in seed order), those only one has, and per shared seed the
    users' paired differences b - a and its `SeedDiff`. ConfigError as `compare_seeds` says."""
    common = sorted((s for s in ref if s in other), key=_seed_order)
    unpaired = tuple(sorted({s for s in ref if s not in other} | {s for s in other if s not in ref}, key=_seed_order))
    if not common:
        raise ConfigError(
            "seeds",
            f"the two groups have no seed in common (a: {sorted(ref, key=_seed_order)}, "
            f"b: {sorted(other, key=_seed_order)}), so their users cannot be paired",
        )
    diffs: list[np.ndarray] = []
    per_seed: list[SeedDiff] = []
    for s in common:
        va, vb = paired_values(ref[s], other[s], metric)
        if len(va) == 0:
            raise ConfigError("per_user", f"no user of seed {s} has a value of {metric!r} in both runs")
        d = vb - va
        diffs.append(d)
        per_seed.append(SeedDiff(s, len(d), float(va.mean()), float(vb.mean()), float(d.mean()), _user_wilcoxon(d)))
    return common, unpaired, diffs, per_seed


def _one_seed_note(seed: int | None, n_users: int, user_p: float, user_low: float, user_high: float) -> str:
    """The note of a one-seed comparison: no verdict, only the user-level view."""
    return (
        f"One seed only (seed {seed}): seed noise is untested, so no verdict is drawn. The user-level "
        f"view (Wilcoxon signed-rank p {user_p:.2g} over {n_users} users, CI over users "
        f"[{user_low:+.4f}, {user_high:+.4f}]) covers the variation over users only; another seed may "
        f"come out differently: run at least {MIN_SEEDS_T_TEST + 1} seeds (how many a verdict needs "
        f"follows from their spread)."
    )


def _seed_t_note(
    per_seed: list[SeedDiff], n_users: int, p_value: float, alpha: float, identical: bool, needed: int | None
) -> str:
    """The note of a seed-level t-test: what was paired, the seeds' directions when they
    disagree, and the seeds a verdict would need when it is inconclusive."""
    n_seeds = len(per_seed)
    seeds = ", ".join(str(p.seed) for p in per_seed)
    note = (
        f"Paired over {n_users} users in {n_seeds} seeds ({seeds}); the seed is the "
        f"unit: p-value from a t-test over the {n_seeds} per-seed mean differences ({n_seeds - 1} degrees "
        f"of freedom), CI the matching t-interval."
    )
    diffs = np.array([p.diff for p in per_seed])
    if (diffs > 0).any() and (diffs < 0).any():
        signs = ", ".join(f"seed {p.seed}: {p.diff:+.4f}" for p in per_seed)
        note += f" The seeds disagree on the direction ({signs})."
    if not identical and p_value >= alpha:
        note += " " + _needed_words(needed, n_seeds)
    return note


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

    - >= 2 seeds (`seed-t-test`): each seed's mean paired difference is one observation; the
      p-value is a two-sided t-test over them (S - 1 degrees of freedom) and the CI the matching
      t-interval. Not significant: `inconclusive`, with the seeds an 80%-power test would need at
      the observed difference and spread (`seeds_needed`).
    - 1 seed (`user-wilcoxon`): no seed-level test, so `p_value` and the CI are NaN and the
      verdict is `untested`, never `better`/`worse`; the user-level Wilcoxon p and bootstrap CI
      (`user_*`) describe the users of that one split only.

    The user-level view (`user_p_value`, `user_ci_*`) is kept beside, secondary. `p_adjusted`
    equals `p_value` until `holm_adjust` puts the comparison in a family. Deterministic given
    `seed` (the bootstrap's). ConfigError when no seed is shared, a table lacks the metric, or a
    seed's runs evaluated different users.
    """
    check_test_settings(n_boot, alpha)
    common, unpaired, diffs, per_seed = _pair_by_seed(ref, other, metric)
    left_out = f" Seeds only one side has were left out: {', '.join(map(str, unpaired))}." if unpaired else ""
    seed_diffs = np.array([p.diff for p in per_seed])
    mean_a = float(np.mean([p.mean_a for p in per_seed]))
    mean_b = float(np.mean([p.mean_b for p in per_seed]))
    diff = float(seed_diffs.mean())
    n_seeds, n_users = len(common), int(sum(len(d) for d in diffs))
    identical = not any(np.any(d != 0) for d in diffs)
    user_p, user_low, user_high = _user_level(diffs, n_boot, alpha, seed)

    if n_seeds == 1:
        # No seed-level test exists: p and CI stay NaN; the user-level view is all there is.
        method, sd, needed = METHOD_USER_WILCOXON, float("nan"), None
        p_value = ci_low = ci_high = float("nan")
        note = _one_seed_note(common[0], n_users, user_p, user_low, user_high) + left_out
    else:
        method = METHOD_SEED_T
        p_value, ci_low, ci_high, sd = _seed_t(seed_diffs, alpha)
        needed = None if p_value < alpha or identical else seeds_needed(diff, sd, alpha=alpha)
        note = _seed_t_note(per_seed, n_users, p_value, alpha, identical, needed) + left_out
    verdict = _verdict(method, p_value, alpha, diff, identical)
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
        significant=verdict in (BETTER, WORSE),
        method=method,
        per_seed=tuple(per_seed),
        note=note,
        unpaired_seeds=unpaired,
        alpha=alpha,
        n_boot=n_boot,
        verdict=verdict,
        seeds_needed=needed,
        seed_sd=sd,
        p_adjusted=p_value,
        user_p_value=user_p,
        user_ci_low=user_low,
        user_ci_high=user_high,
    )


def _needed_words(needed: int | None, n_seeds: int) -> str:
    if needed is None:
        return (
            f"Inconclusive: the difference is small against the spread over seeds; more than "
            f"{MAX_SEEDS_NEEDED} seeds would be needed to decide it."
        )
    if needed <= n_seeds:
        return (
            f"Inconclusive: with this spread about {needed} seeds would usually decide a difference this "
            f"large, but these {n_seeds} did not; run more seeds."
        )
    return f"Inconclusive: about {needed} seeds (80% power at the observed difference and spread) would decide it."


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (Holm 1979), in the order given; a NaN p-value (no
    test) stays NaN and is not counted in the family."""
    tested = sorted((i for i, p in enumerate(p_values) if math.isfinite(p)), key=lambda i: p_values[i])
    out = [float("nan")] * len(p_values)
    running = 0.0
    for rank, i in enumerate(tested):
        running = max(running, min(1.0, (len(tested) - rank) * p_values[i]))
        out[i] = running
    return out


def holm_adjust(rows: Sequence[SeedAwareComparison]) -> list[SeedAwareComparison]:
    """The same comparisons with Holm-adjusted p-values over their seed-level tests, and
    `significant`/`verdict` decided on the adjusted p (controls the chance of any false
    "better"/"worse" among them at alpha). One-seed rows are no test and stay as they are.
    """
    tested = [i for i, r in enumerate(rows) if r.method == METHOD_SEED_T]
    out = list(rows)
    for i, adjusted in zip(tested, holm([rows[i].p_value for i in tested])):
        r = rows[i]
        verdict = _verdict(r.method, adjusted, r.alpha, r.diff, r.verdict == IDENTICAL)
        out[i] = replace(
            r, p_adjusted=adjusted, n_compared=len(tested), verdict=verdict, significant=verdict in (BETTER, WORSE)
        )
    return out


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
    column order of the reference's first seed), Holm-adjusted over the metrics."""
    if metrics is None:
        tables = [*ref.values(), *other.values()]
        if not tables:
            raise ConfigError("seeds", "no per-user tables to compare")
        metrics = [c for c in tables[0].columns if c not in NON_METRIC_COLUMNS and all(c in t.columns for t in tables)]
    return holm_adjust([compare_seeds(ref, other, m, n_boot=n_boot, alpha=alpha, seed=seed) for m in metrics])
