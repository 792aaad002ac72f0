"""Paired comparison of two runs over users, seed-aware comparison of groups, the over-seeds summary."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rec_core.errors import ConfigError
from rec_core.evaluate import EvalConfig, compare_all, evaluate, paired_compare, seed_summary
from rec_core.evaluate.compare import compare_seeds, compare_seeds_all, holm_adjust, seeds_needed
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


def test_seeded() -> None:
    rng = np.random.default_rng(4)
    a, b = _table(rng.random(1000)), _table(rng.random(1000))
    first = paired_compare(a, b, "ndcg@10", seed=5)
    assert first == paired_compare(a, b, "ndcg@10", seed=5)
    assert first != paired_compare(a, b, "ndcg@10", seed=6)  # the seed drives the bootstrap


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


def test_seeds_that_disagree_are_inconclusive_with_seeds_needed() -> None:
    a, b = _seed_case(DISAGREE)
    c = compare_seeds(a, b, "ndcg@10")
    # Every seed alone is overwhelmingly "significant" over its users...
    assert all(p.p_value < 1e-6 and p.n_users == 400 for p in c.per_seed)
    assert [p.diff > 0 for p in c.per_seed] == [True, False, True]
    assert c.user_p_value < 1e-6 and c.user_ci_low > 0  # ...and so is the user-level view...
    # ...but over seeds the direction is not established.
    assert not c.significant and c.method == "seed-t-test" and c.verdict == "inconclusive"
    assert c.ci_low < 0 < c.ci_high and c.p_value > 0.05
    assert c.seeds == (0, 1, 2) and c.n_seeds == 3 and c.n_users == 1200
    assert c.diff == pytest.approx(np.mean([p.diff for p in c.per_seed]))
    assert c.diff == pytest.approx(c.mean_b - c.mean_a) and c.rel_diff == pytest.approx(c.diff / c.mean_a)
    assert c.seed_sd == pytest.approx(np.std([p.diff for p in c.per_seed], ddof=1))
    assert c.seeds_needed is not None and c.seeds_needed > 3 and c.seeds_needed == seeds_needed(c.diff, c.seed_sd)
    assert "3 seeds" in c.note and "disagree" in c.note and f"about {c.seeds_needed} seeds" in c.note
    # The old pooled (seed, user) approach calls the very same data an improvement.
    old = paired_compare(_pooled(a), _pooled(b), "ndcg@10")
    assert old.significant and old.p_value < 1e-6 and old.ci_low > 0
    assert old.diff == pytest.approx(c.diff)  # same mean difference: only the evidence differs


@pytest.mark.parametrize("n_seeds", [2, 3, 5])
def test_agreeing_seeds_are_judged_by_a_t_test_over_seeds(n_seeds: int) -> None:
    a, b = _seed_case([0.02, 0.03, 0.025, 0.015, 0.02][:n_seeds])
    c = compare_seeds(a, b, "ndcg@10")
    diffs = [p.diff for p in c.per_seed]
    expected = stats.ttest_1samp(diffs, 0.0)
    assert c.method == "seed-t-test" and c.p_value == pytest.approx(expected.pvalue)
    assert c.p_adjusted == c.p_value and c.n_compared == 1
    low, high = expected.confidence_interval(0.95)
    assert (c.ci_low, c.ci_high) == (pytest.approx(low), pytest.approx(high))  # the matching t-interval
    assert c.significant == (c.p_value < 0.05) == (c.ci_low > 0)
    assert c.verdict == ("better" if c.significant else "inconclusive")
    assert "t-test" in c.note and "disagree" not in c.note
    flipped = compare_seeds(b, a, "ndcg@10")
    assert flipped.p_value == pytest.approx(c.p_value) and flipped.diff == pytest.approx(-c.diff)
    assert flipped.verdict == ("worse" if c.significant else "inconclusive")
    if n_seeds == 5:
        assert c.significant and c.p_value < 0.01 and c.seeds_needed is None


def test_two_seeds_are_tested_not_floored() -> None:
    # The former bootstrap floored p at 1 / n_boot and called two agreeing seeds significant.
    a, b = _seed_case([0.03, 0.04])
    c = compare_seeds(a, b, "ndcg@10", n_boot=500)
    assert c.method == "seed-t-test" and c.p_value == pytest.approx(
        stats.ttest_1samp([p.diff for p in c.per_seed], 0).pvalue
    )
    assert (
        c.p_value > 0.05 and not c.significant and c.ci_high - c.ci_low > 0.05
    )  # 1 degree of freedom: a wide interval
    same = compare_seeds(a, {s: t.copy() for s, t in a.items()}, "ndcg@10", n_boot=200)
    assert same.p_value == 1.0 and same.diff == 0.0 and not same.significant and same.verdict == "identical"


def test_five_disagreeing_seeds_are_not_significant() -> None:
    a, b = _seed_case(DISAGREE + [0.04, -0.02])
    c = compare_seeds(a, b, "ndcg@10")
    assert c.method == "seed-t-test" and not c.significant and c.p_value > 0.05
    assert paired_compare(_pooled(a), _pooled(b), "ndcg@10").significant  # the old path


def test_seeds_needed_is_the_80_percent_power_count() -> None:
    # Effect size 1 (diff = sd): a two-sided one-sample t-test needs 10 observations for 80% power
    # (Cohen's tables: n = 10 at d = 1.0, alpha 0.05).
    assert seeds_needed(0.01, 0.01) == 10
    assert seeds_needed(0.02, 0.01) == 5  # d = 2
    assert seeds_needed(0.0, 0.01) is None and seeds_needed(1e-6, 0.1) is None  # nothing / too many
    assert seeds_needed(-0.02, 0.01) == seeds_needed(0.02, 0.01)


def test_holm_adjusts_within_the_family_and_leaves_one_seed_rows() -> None:
    a, b = _seed_case([0.02, 0.03, 0.025])
    strong = compare_seeds(a, b, "ndcg@10")
    weak = compare_seeds(*_seed_case(DISAGREE), "ndcg@10")
    one = compare_seeds({0: a[0]}, {0: b[0]}, "ndcg@10")
    out = holm_adjust([weak, one, strong])
    assert out[1] == one  # no seed-level test: not part of the family
    assert out[2].p_adjusted == pytest.approx(min(1, 2 * strong.p_value)) and out[2].n_compared == 2
    assert out[0].p_adjusted == pytest.approx(max(out[2].p_adjusted, weak.p_value))
    assert out[2].significant == (out[2].p_adjusted < 0.05)


def test_seed_aware_is_deterministic_and_fast() -> None:
    a, b = _seed_case(DISAGREE, n=1000)
    first = compare_seeds(a, b, "ndcg@10", seed=3)
    assert first == compare_seeds(a, b, "ndcg@10", seed=3)
    other = compare_seeds(a, b, "ndcg@10", seed=4)
    # The seed only moves the user-level bootstrap; the seed-level verdict does not depend on it.
    assert (first.user_ci_low, first.user_ci_high) != (other.user_ci_low, other.user_ci_high)
    assert (first.p_value, first.ci_low, first.ci_high) == (other.p_value, other.ci_low, other.ci_high)
    assert json.loads(json.dumps(first.to_dict()))["seeds"] == [0, 1, 2]


def test_one_seed_gives_no_verdict_and_keeps_the_user_view() -> None:
    a, b = _seed_case([0.03])
    c = compare_seeds(a, b, "ndcg@10", n_boot=300)
    user = paired_compare(a[0], b[0], "ndcg@10", n_boot=300)
    assert c.method == "user-wilcoxon" and c.seeds == (0,) and c.n_seeds == 1
    assert user.significant and not c.significant and c.verdict == "untested"
    assert math.isnan(c.p_value) and math.isnan(c.ci_low) and c.seeds_needed is None
    assert c.user_p_value == user.p_value and c.diff == user.diff
    assert "seed noise is untested" in c.note and "One seed" in c.note
    assert json.loads(json.dumps(c.to_dict()))["p_value"] is None


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
