"""Paired comparison of two runs over users, seed-aware comparison of groups, the over-seeds summary."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rec_core.errors import ConfigError
from rec_core.evaluate import EvalConfig, compare_all, evaluate, paired_compare, seed_summary
from rec_core.evaluate.compare import compare_seeds, compare_seeds_all
from tests.test_eval_ranking import FixedScores, make_split, random_case


def _table(values: np.ndarray, users: np.ndarray | None = None, name: str = "ndcg@10") -> pd.DataFrame:
    users = np.arange(len(values)) if users is None else users
    return pd.DataFrame({"user": users, "n_relevant": 1, "n_train": 5, name: values})


def test_identical_runs() -> None:
    a = _table(np.random.default_rng(0).random(300))
    c = paired_compare(a, a.copy(), "ndcg@10")
    assert c.diff == 0.0 and c.p_value == 1.0 and (c.ci_low, c.ci_high) == (0.0, 0.0)
    assert not c.significant and c.n_users == 300 and c.rel_diff == 0.0


def test_clear_shift_is_significant() -> None:
    rng = np.random.default_rng(1)
    a = rng.random(500)
    b = a + 0.05 + rng.normal(0, 0.05, 500)
    c = paired_compare(_table(a), _table(b), "ndcg@10")
    assert c.significant and c.p_value < 1e-10 and c.ci_low > 0
    assert c.diff == pytest.approx(c.mean_b - c.mean_a)
    assert c.rel_diff == pytest.approx(c.diff / c.mean_a)
    worse = paired_compare(_table(b), _table(a), "ndcg@10")  # the other way round
    assert worse.significant and worse.ci_high < 0 and worse.diff == pytest.approx(-c.diff)


def test_ci_contains_true_mean_difference() -> None:
    rng = np.random.default_rng(2)
    a = rng.random(1000)
    noise = rng.normal(0, 0.2, 1000)
    b = a + 0.03 + (noise - noise.mean())  # the mean difference is exactly 0.03
    c = paired_compare(_table(a), _table(b), "ndcg@10")
    assert c.diff == pytest.approx(0.03)
    assert c.ci_low < 0.03 < c.ci_high
    # Standard error 0.2 / sqrt(1000) ~= 0.0063: a 95% interval is about +-0.0124 wide.
    assert c.ci_high - c.ci_low == pytest.approx(2 * 1.96 * 0.2 / math.sqrt(1000), rel=0.15)


def test_no_difference_is_not_significant() -> None:
    rng = np.random.default_rng(3)
    a = rng.random(400)
    noise = rng.normal(0, 0.1, 400)
    c = paired_compare(_table(a), _table(a + noise - noise.mean()), "ndcg@10")
    assert not c.significant and c.ci_low < 0 < c.ci_high


def test_pairs_on_user_not_row_order() -> None:
    a = _table(np.array([0.1, 0.2, 0.3]), np.array([7, 8, 9]))
    b = _table(np.array([0.3, 0.2, 0.1]), np.array([9, 8, 7]))
    assert paired_compare(a, b, "ndcg@10").diff == 0.0


def test_different_users_raise_naming_counts() -> None:
    a = _table(np.ones(5))
    b = _table(np.ones(4))
    with pytest.raises(ConfigError) as err:
        paired_compare(a, b, "ndcg@10")
    assert "5" in str(err.value) and "4" in str(err.value)
    with pytest.raises(ConfigError, match="metric"):
        paired_compare(a, a, "hit@10")


def test_zero_baseline_gives_nan_relative_difference() -> None:
    c = paired_compare(_table(np.zeros(50)), _table(np.full(50, 0.5)), "ndcg@10")
    assert math.isnan(c.rel_diff) and c.to_dict()["rel_diff"] is None


def test_seeded_and_fast() -> None:
    rng = np.random.default_rng(4)
    a, b = _table(rng.random(1000)), _table(rng.random(1000))
    first = paired_compare(a, b, "ndcg@10", seed=5)
    assert first == paired_compare(a, b, "ndcg@10", seed=5)
    start = time.perf_counter()
    paired_compare(a, b, "ndcg@10", n_boot=2000)
    assert time.perf_counter() - start < 0.5  # ~0.03 s alone; slack for a shared machine


def test_compare_all_on_evaluation_results() -> None:
    data, parts, scores = random_case(seed=9)
    split = make_split(parts)
    cfg = EvalConfig(ks=(5, 10))
    ra = evaluate(FixedScores(scores), data, split, "test", cfg)
    rb = evaluate(FixedScores(scores + np.random.default_rng(0).normal(0, 1, scores.shape)), data, split, "test", cfg)
    out = compare_all(ra.per_user, rb.per_user, n_boot=200)
    assert [c.metric for c in out] == [c for c in ra.per_user.columns if "@" in c]
    assert all(c.n_users == ra.n_users for c in out)
    assert [c.metric for c in compare_all(ra.per_user, rb.per_user, ["hit@5"])] == ["hit@5"]


def test_seed_summary() -> None:
    assert seed_summary([1.0, 2.0, 3.0]) == (2.0, 1.0)
    assert seed_summary([0.25]) == (0.25, 0.0)
    with pytest.raises(ConfigError):
        seed_summary([])


# -- over seeds ---------------------------------------------------------------------------------------
def _seed_case(
    shifts: list[float], n: int = 400, noise: float = 0.05, seed: int = 0
) -> tuple[dict[int, pd.DataFrame], dict[int, pd.DataFrame]]:
    """Per seed s: run b = run a + shifts[s] + N(0, noise) per user (hundreds of users)."""
    rng = np.random.default_rng(seed)
    a: dict[int, pd.DataFrame] = {}
    b: dict[int, pd.DataFrame] = {}
    for s, shift in enumerate(shifts):
        base = rng.uniform(0.2, 0.6, n)
        a[s] = _table(base)
        b[s] = _table(base + shift + rng.normal(0, noise, n))
    return a, b


def _pooled(tables: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """The old code path: (seed, user) pairs concatenated as if they were independent users."""
    return pd.concat([t.assign(user=f"{s}:" + t["user"].astype(str)) for s, t in tables.items()], ignore_index=True)


DISAGREE = [0.06, -0.03, 0.02]  # seed 0 strongly +, seed 1 strongly -, seed 2 small +


def test_seeds_that_disagree_are_not_significant() -> None:
    a, b = _seed_case(DISAGREE)
    c = compare_seeds(a, b, "ndcg@10")
    # Every seed alone is overwhelmingly "significant" over its users...
    assert all(p.p_value < 1e-6 and p.n_users == 400 for p in c.per_seed)
    assert [p.diff > 0 for p in c.per_seed] == [True, False, True]
    # ...but over seeds the direction is not established.
    assert not c.significant and c.method == "hierarchical-bootstrap"
    assert c.ci_low < 0 < c.ci_high and c.p_value > 0.05
    assert c.seeds == (0, 1, 2) and c.n_seeds == 3 and c.n_users == 1200
    assert c.diff == pytest.approx(np.mean([p.diff for p in c.per_seed]))
    assert c.diff == pytest.approx(c.mean_b - c.mean_a) and c.rel_diff == pytest.approx(c.diff / c.mean_a)
    assert "3 seeds" in c.note and "disagree" in c.note
    # The old pooled (seed, user) approach calls the very same data an improvement.
    old = paired_compare(_pooled(a), _pooled(b), "ndcg@10")
    assert old.significant and old.p_value < 1e-6 and old.ci_low > 0
    assert old.diff == pytest.approx(c.diff)  # same mean difference: only the evidence differs


def test_five_agreeing_seeds_are_significant_by_a_t_test_over_seeds() -> None:
    a, b = _seed_case([0.02, 0.03, 0.025, 0.015, 0.02])
    c = compare_seeds(a, b, "ndcg@10")
    assert c.significant and c.method == "seed-t-test" and c.ci_low > 0 and c.p_value < 0.01
    expected = stats.ttest_1samp([p.diff for p in c.per_seed], 0.0).pvalue
    assert c.p_value == pytest.approx(expected)
    assert "t-test" in c.note and "disagree" not in c.note
    flipped = compare_seeds(b, a, "ndcg@10")
    assert flipped.significant and flipped.ci_high < 0 and flipped.diff == pytest.approx(-c.diff)


def test_five_disagreeing_seeds_are_not_significant() -> None:
    a, b = _seed_case(DISAGREE + [0.04, -0.02])
    c = compare_seeds(a, b, "ndcg@10")
    assert c.method == "seed-t-test" and not c.significant and c.p_value > 0.05
    assert paired_compare(_pooled(a), _pooled(b), "ndcg@10").significant  # the old path


def test_two_agreeing_seeds_bootstrap_p_is_floored() -> None:
    a, b = _seed_case([0.03, 0.04])
    c = compare_seeds(a, b, "ndcg@10", n_boot=500)
    assert c.method == "hierarchical-bootstrap" and c.p_value == pytest.approx(1 / 500) and c.significant
    same = compare_seeds(a, {s: t.copy() for s, t in a.items()}, "ndcg@10", n_boot=200)
    assert same.p_value == 1.0 and same.diff == 0.0 and not same.significant


def test_seed_aware_is_deterministic_and_fast() -> None:
    a, b = _seed_case(DISAGREE, n=1000)
    first = compare_seeds(a, b, "ndcg@10", seed=3)
    assert first == compare_seeds(a, b, "ndcg@10", seed=3)
    assert (first.ci_low, first.ci_high) != (
        compare_seeds(a, b, "ndcg@10", seed=4).ci_low,
        compare_seeds(a, b, "ndcg@10", seed=4).ci_high,
    )
    start = time.perf_counter()
    compare_seeds(a, b, "ndcg@10", n_boot=2000)
    assert time.perf_counter() - start < 1.5  # ~0.1 s alone; slack for a shared machine
    assert json.loads(json.dumps(first.to_dict()))["seeds"] == [0, 1, 2]


def test_one_seed_falls_back_to_users_and_says_so() -> None:
    a, b = _seed_case([0.03])
    c = compare_seeds(a, b, "ndcg@10", n_boot=300)
    user = paired_compare(a[0], b[0], "ndcg@10", n_boot=300)
    assert c.method == "user-wilcoxon" and c.seeds == (0,) and c.n_seeds == 1
    assert (c.p_value, c.ci_low, c.ci_high, c.diff, c.significant) == (
        user.p_value,
        user.ci_low,
        user.ci_high,
        user.diff,
        user.significant,
    )
    assert "seed variation is not covered" in c.note and "One seed" in c.note


def test_seeds_only_on_one_side_are_left_out_and_named() -> None:
    a, b = _seed_case([0.02, 0.03, 0.01, 0.02])
    ref = {s: a[s] for s in (0, 1, 2)}
    other = {s: b[s] for s in (1, 2, 3)}
    c = compare_seeds(ref, other, "ndcg@10", n_boot=200)
    assert c.seeds == (1, 2) and c.unpaired_seeds == (0, 3) and c.n_users == 800
    assert "left out: 0, 3" in c.note
    with pytest.raises(ConfigError, match="no seed in common"):
        compare_seeds({0: a[0]}, {1: b[1]}, "ndcg@10")
    with pytest.raises(ConfigError, match="different users"):
        compare_seeds({0: a[0], 1: a[1]}, {0: b[0], 1: b[1].iloc[:-3]}, "ndcg@10")
    rows = compare_seeds_all(ref, other, n_boot=50)
    assert [r.metric for r in rows] == ["ndcg@10"]
