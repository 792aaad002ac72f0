"""Paired comparison of two runs over users, and the over-seeds summary."""
from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

from rec_core.errors import ConfigError
from rec_core.evaluate import EvalConfig, compare_all, evaluate, paired_compare, seed_summary
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
