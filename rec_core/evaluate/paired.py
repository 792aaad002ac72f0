"""Comparing two runs of one seed, paired over users: the Wilcoxon signed-rank test and a
paired bootstrap confidence interval of the mean difference (a statement about users only),
and the mean / spread of a metric over seeds. The seed-level comparison that draws verdicts
is `rec_core.evaluate.compare.compare_seeds`, built on the pairing here.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from rec_core.errors import ConfigError

__all__ = [
    "NON_METRIC_COLUMNS",
    "PairedComparison",
    "compare_all",
    "paired_compare",
    "paired_values",
    "resample_means",
    "seed_summary",
]

NON_METRIC_COLUMNS = ("user", "n_relevant", "n_train")
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


def check_test_settings(n_boot: int, alpha: float) -> None:
    """ConfigError unless n_boot >= 1 and 0 < alpha < 1."""
    if n_boot < 1:
        raise ConfigError("n_boot", f"must be >= 1, got {n_boot}")
    if not 0.0 < alpha < 1.0:
        raise ConfigError("alpha", f"must be in (0, 1), got {alpha}")


def paired_values(a: pd.DataFrame, b: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Values of `metric` for the same users in both runs, aligned: (n,), (n,) float64."""
    for name, df in (("a", a), ("b", b)):
        if "user" not in df.columns or metric not in df.columns:
            raise ConfigError("metric", f"run {name}'s per-user table lacks column 'user' or {metric!r}")
        if df["user"].duplicated().any():
            raise ConfigError("per_user", f"run {name}'s per-user table repeats users")
    ua, ub = a["user"].to_numpy(), b["user"].to_numpy()
    if len(ua) == len(ub) and np.array_equal(ua, ub):  # the usual case: one split, one user order
        va, vb = a[metric].to_numpy(dtype=np.float64), b[metric].to_numpy(dtype=np.float64)
        keep = ~(np.isnan(va) | np.isnan(vb))
        return va[keep], vb[keep]
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
    return resample_means(d, n_boot, np.random.default_rng(seed))


def resample_means(d: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
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
    check_test_settings(n_boot, alpha)
    va, vb = paired_values(per_user_a, per_user_b, metric)
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
        metrics = [c for c in per_user_a.columns if c not in NON_METRIC_COLUMNS and c in per_user_b.columns]
    return [paired_compare(per_user_a, per_user_b, m, n_boot=n_boot, alpha=alpha, seed=seed) for m in metrics]


def seed_summary(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; 0.0 for a single value) over seeds."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        raise ConfigError("values", "seed_summary needs at least one value")
    std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return float(arr.mean()), std
