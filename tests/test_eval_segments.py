"""Item popularity segments and user activity groups, alone and inside `evaluate`."""

from __future__ import annotations

import numpy as np
import pytest

from rec_core.errors import ConfigError
from rec_core.evaluate import EvalConfig, evaluate, item_segments, user_activity_groups
from tests.test_eval_ranking import FixedScores, make_split, naive_lists, naive_metrics, random_case


def test_item_segments_rule() -> None:
    # 3 cold items, 20 warm items with counts 20..1 (item 3 most popular).
    counts = np.array([0, 0, 0] + list(range(20, 0, -1)))
    labels = item_segments(counts)
    assert labels[:3].tolist() == ["cold"] * 3
    assert labels[3:5].tolist() == ["head"] * 2  # top 10% of 20 warm items
    assert labels[5:11].tolist() == ["torso"] * 6  # next 30%
    assert labels[11:].tolist() == ["tail"] * 12  # remaining 60%
    # The fractions are parameters.
    assert (item_segments(counts, head=0.25, torso=0.25) == "head").sum() == 5


def test_item_segments_ties_cut_by_index_and_validation() -> None:
    labels = item_segments(np.full(10, 7))  # all equal: lowest index first
    assert labels.tolist() == ["head"] + ["torso"] * 3 + ["tail"] * 6
    with pytest.raises(ConfigError, match="head"):
        item_segments(np.ones(5), head=0.0)
    with pytest.raises(ConfigError, match="torso"):
        item_segments(np.ones(5), head=0.8, torso=0.3)


def test_user_activity_tertiles_and_labels() -> None:
    codes, labels = user_activity_groups(np.arange(1, 10))
    assert labels == ["users:low (<= 3)", "users:mid (4-6)", "users:high (>= 7)"]
    assert codes.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_segments_in_evaluate_match_naive_restriction() -> None:
    data, parts, scores = random_case(seed=21, n_users=40, n_items=60, ties=False)
    parts[np.isin(data.items, [0, 1, 2])] = 2  # three cold items, all their rows in test
    scores[:, :3] += 2.0  # and ranked high enough to be found sometimes
    split = make_split(parts)
    res = evaluate(FixedScores(scores), data, split, "test", EvalConfig(ks=(5, 10)))
    train_counts = np.bincount(data.items[split.train], minlength=data.n_items)
    labels = item_segments(train_counts)
    ref = naive_lists(data, split, "test", scores, None)
    for seg in ("cold", "tail", "torso", "head"):
        in_seg = {int(i) for i in np.flatnonzero(labels == seg)}
        # Same ranking, ground truth restricted to the segment; users without any are left out.
        per_user = [
            naive_metrics([i in gt & in_seg for g in groups for i in g], len(gt & in_seg), 10)
            for groups, gt in ref.values()
            if gt & in_seg
        ]
        entry = res.segments[seg]
        assert entry["n_users"] == len(per_user) > 0
        assert entry["n_items"] == len(in_seg)
        for name in ("ndcg", "hit", "recall", "mrr", "precision"):
            assert entry[f"{name}@10"] == pytest.approx(np.mean([m[name] for m in per_user]))
    user_groups = [k for k in res.segments if k.startswith("users:")]
    assert len(user_groups) == 3
    assert sum(res.segments[k]["n_users"] for k in user_groups) == res.n_users
    codes, group_labels = user_activity_groups(res.per_user["n_train"].to_numpy())
    for code, label in enumerate(group_labels):
        assert res.segments[label]["ndcg@10"] == pytest.approx(res.per_user["ndcg@10"][codes == code].mean())
