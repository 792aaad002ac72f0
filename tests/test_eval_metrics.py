"""Metric functions against hand-worked values and a naive pure-Python reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rec_core.errors import ConfigError
from rec_core.evaluate.metrics import METRIC_NAMES, compute_metrics, dcg, hit, mrr, ndcg, precision, recall


def _h(rows: list[list[int]]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.bool)


def test_wikipedia_dcg_example() -> None:
    # https://en.wikipedia.org/wiki/Discounted_cumulative_gain: relevances 3,2,3,0,1,2.
    assert float(dcg(torch.tensor([3.0, 2, 3, 0, 1, 2]))) == pytest.approx(6.861, abs=1e-3)
    # Wikipedia's ideal list adds two unlisted documents (grades 3 and 2): 3,3,3,2,2,2 gives
    # IDCG_6 ~= 8.740 and nDCG_6 ~= 0.785.
    ideal = float(dcg(torch.tensor([3.0, 3, 3, 2, 2, 2])))
    assert ideal == pytest.approx(8.740, abs=1e-3)
    assert 6.861 / ideal == pytest.approx(0.785, abs=1e-3)
    # Binary gains: dcg equals the DCG part of ndcg.
    hits = _h([[1, 0, 1, 0, 0]])
    assert float(dcg(hits.double())) == pytest.approx(1.5)


def test_hand_worked_values() -> None:
    hits = _h([[1, 0, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 0]])
    n_rel = torch.tensor([3, 1, 2])
    assert hit(hits, 5).tolist() == [1.0, 1.0, 0.0]
    assert hit(hits, 3).tolist() == [1.0, 0.0, 0.0]
    assert precision(hits, 5).tolist() == pytest.approx([0.4, 0.2, 0.0])
    assert recall(hits, n_rel, 5).tolist() == pytest.approx([2 / 3, 1.0, 0.0])
    assert recall(hits, n_rel, 1).tolist() == pytest.approx([1 / 3, 0.0, 0.0])
    assert mrr(hits, 5).tolist() == pytest.approx([1.0, 0.25, 0.0])
    assert mrr(hits, 3).tolist() == pytest.approx([1.0, 0.0, 0.0])
    # user 0: DCG = 1 + 1/log2(4) = 1.5; IDCG (3 relevant) = 1 + 1/log2(3) + 1/2 = 2.1309.
    # user 1: DCG = 1/log2(5); IDCG = 1.
    assert ndcg(hits, n_rel, 5).tolist() == pytest.approx([1.5 / 2.130930, 1 / math.log2(5), 0.0], abs=1e-6)
    # IDCG is over min(n_relevant, k): with k = 1 one relevant item is ideal.
    assert ndcg(hits, n_rel, 1).tolist() == pytest.approx([1.0, 0.0, 0.0])


def test_perfect_list_scores_one() -> None:
    hits = _h([[1, 1, 0, 0]])
    n_rel = torch.tensor([2])
    assert float(ndcg(hits, n_rel, 4)) == pytest.approx(1.0)
    assert float(recall(hits, n_rel, 4)) == 1.0


def test_no_relevant_items_gives_nan_not_zero() -> None:
    hits = _h([[0, 0, 0]])
    n_rel = torch.tensor([0])
    assert math.isnan(float(recall(hits, n_rel, 3)))
    assert math.isnan(float(ndcg(hits, n_rel, 3)))


def test_bad_cutoffs_raise_config_error_naming_ks() -> None:
    hits = _h([[1, 0]])
    for k in (0, -1, 3):
        with pytest.raises(ConfigError) as err:
            hit(hits, k)
        assert err.value.field == "ks"


def test_compute_metrics_keys_and_unknown_metric() -> None:
    hits = _h([[1, 0, 0]])
    out = compute_metrics(hits, torch.tensor([1]), (1, 3), ("hit", "ndcg"))
    assert list(out) == ["hit@1", "hit@3", "ndcg@1", "ndcg@3"]
    with pytest.raises(ConfigError) as err:
        compute_metrics(hits, torch.tensor([1]), (1,), ("auc",))
    assert err.value.field == "metrics"


def _naive(row: list[bool], n_rel: int, k: int) -> dict[str, float]:
    """Textbook definitions, one user, plain Python."""
    top = row[:k]
    found = sum(top)
    first = next((r for r, h in enumerate(top) if h), None)
    dcg_v = sum(1 / math.log2(r + 2) for r, h in enumerate(top) if h)
    idcg = sum(1 / math.log2(r + 2) for r in range(min(n_rel, k)))
    return {
        "hit": 1.0 if found else 0.0,
        "precision": found / k,
        "recall": found / n_rel,
        "mrr": 0.0 if first is None else 1 / (first + 1),
        "ndcg": dcg_v / idcg,
    }


def test_vectorised_matches_naive_on_random_data() -> None:
    rng = np.random.default_rng(7)
    hits = rng.random((200, 20)) < 0.2
    # n_relevant at least the hits in the list, sometimes far more (recall < 1 stays possible).
    n_rel = hits.sum(1) + rng.integers(0, 6, size=200)
    n_rel[n_rel == 0] = 1
    ks = (1, 5, 10, 20)
    out = compute_metrics(torch.from_numpy(hits), torch.from_numpy(n_rel), ks, METRIC_NAMES)
    for u in range(200):
        for k in ks:
            ref = _naive(hits[u].tolist(), int(n_rel[u]), k)
            for name, value in ref.items():
                assert float(out[f"{name}@{k}"][u]) == pytest.approx(value, abs=1e-12), (u, k, name)
