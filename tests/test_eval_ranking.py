"""Full-ranking evaluation against a naive per-user reference, masking, ties and chunking.

The helpers here (tiny data, splits and a fixed-score model) are reused by the other
test_eval_* files.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import Tensor

from rec_core.data.interactions import InteractionData, TextTable
from rec_core.errors import ConfigError, DataError, RecCoreError
from rec_core.evaluate import EvalConfig, evaluate, evaluate_all, ranking_task, top_k
from rec_core.models.base import Recommender
from rec_core.split import Split, SplitConfig


class FixedScores(Recommender):
    """A recommender whose scores are a fixed (n_users, n_items) matrix."""

    name = "fixed"

    def __init__(self, scores: np.ndarray) -> None:
        super().__init__(*scores.shape)
        self.register_buffer("table", torch.as_tensor(scores, dtype=torch.float32))
        self.calls: list[int] = []  # chunk sizes seen

    def full_scores(self, users: Tensor) -> Tensor:
        self.calls.append(len(users))
        return self.table[users]


def make_data(users: np.ndarray, items: np.ndarray, n_users: int, n_items: int) -> InteractionData:
    """InteractionData from aligned (user, item) arrays; fields and texts are empty."""
    n = len(users)
    return InteractionData(
        name="tiny",
        user_ids=np.array([str(u) for u in range(n_users)]),
        item_ids=np.array([str(i) for i in range(n_items)]),
        users=np.asarray(users, dtype=np.int64),
        items=np.asarray(items, dtype=np.int64),
        ratings=np.ones(n, dtype=np.float32),
        timestamps=np.arange(n, dtype=np.int64),
        user_fields=pd.DataFrame(index=range(n_users)),
        item_fields=pd.DataFrame(index=range(n_items)),
        user_text=TextTable(("",) * n_users, ((),) * n_users),
        item_text=TextTable(("",) * n_items, ((),) * n_items),
    )


def make_split(
    parts: np.ndarray, valid_candidates: np.ndarray | None = None, test_candidates: np.ndarray | None = None
) -> Split:
    """Split from a per-row part code (0 train, 1 valid, 2 test)."""
    rows = np.arange(len(parts))
    return Split(
        config=SplitConfig(),
        train=rows[parts == 0],
        valid=rows[parts == 1],
        test=rows[parts == 2],
        valid_candidates=valid_candidates,
        test_candidates=test_candidates,
    )


def random_case(seed: int, n_users: int = 30, n_items: int = 40, ties: bool = True):
    """Random interactions (no duplicate pairs), parts and scores; ties=True draws integer scores."""
    rng = np.random.default_rng(seed)
    pairs = np.flatnonzero(rng.random(n_users * n_items) < 0.3)
    users, items = pairs // n_items, pairs % n_items
    parts = rng.choice(3, size=len(pairs), p=[0.7, 0.15, 0.15])
    scores = rng.integers(0, 4, size=(n_users, n_items)).astype(float) if ties else rng.normal(size=(n_users, n_items))
    return make_data(users, items, n_users, n_items), parts, scores


def naive_lists(
    data: InteractionData, split: Split, part: str, scores: np.ndarray, candidates: np.ndarray | None
) -> dict[int, tuple[list[list[int]], set[int]]]:
    """Per evaluated user: the unmasked candidates as groups of equal score, best first, and
    the ground-truth set. Plain Python, the reference the vectorised code must match."""
    masked_rows = list(split.train) + (list(split.valid) if part == "test" else [])
    masked: dict[int, set[int]] = {}
    for r in masked_rows:
        masked.setdefault(int(data.users[r]), set()).add(int(data.items[r]))
    allowed = set(range(data.n_items)) if candidates is None else {int(i) for i in candidates}
    truth: dict[int, set[int]] = {}
    for r in split.valid if part == "valid" else split.test:
        if int(data.items[r]) in allowed:
            truth.setdefault(int(data.users[r]), set()).add(int(data.items[r]))
    out = {}
    for u, gt in truth.items():
        ranked = [i for i in allowed if i not in masked.get(u, set())]
        by_score: dict[float, list[int]] = {}
        for i in ranked:
            by_score.setdefault(float(scores[u, i]), []).append(i)
        out[u] = ([by_score[v] for v in sorted(by_score, reverse=True)], gt)
    return out


def naive_metrics(hits: list[bool], n_gt: int, k: int) -> dict[str, float]:
    """Every metric of one fixed ranking given as relevance flags in rank order."""
    top = hits[:k]
    first = next((r for r, h in enumerate(top) if h), None)
    idcg = sum(1 / math.log2(r + 2) for r in range(min(n_gt, k)))
    return {
        "hit": float(any(top)),
        "precision": sum(top) / k,
        "recall": sum(top) / n_gt,
        "mrr": 0.0 if first is None else 1 / (first + 1),
        "ndcg": sum(1 / math.log2(r + 2) for r, h in enumerate(top) if h) / idcg,
    }


def naive_expected(groups: list[list[int]], gt: set[int], k: int) -> dict[str, float]:
    """Mean of every metric over all orderings of each tied group, by brute force: the
    metrics depend only on which slots of each group hold relevant items, so every choice of
    slots (equally likely) is enumerated, independently per group."""
    per_group = []
    for g in groups:
        r = sum(i in gt for i in g)
        per_group.append(
            [[s in chosen for s in range(len(g))] for chosen in map(set, itertools.combinations(range(len(g)), r))]
        )
    totals: dict[str, float] = {}
    count = 0
    for arrangement in itertools.product(*per_group):
        flags = [h for part in arrangement for h in part]
        for name, value in naive_metrics(flags, len(gt), k).items():
            totals[name] = totals.get(name, 0.0) + value
        count += 1
    return {name: value / count for name, value in totals.items()}


KS = (1, 3, 10, 50)  # 50 > n_items: lists are shorter than the cutoff


@pytest.mark.parametrize("part", ["valid", "test"])
@pytest.mark.parametrize("ties", [True, False])
@pytest.mark.parametrize("cold", [False, True])
def test_matches_naive_reference(part: str, ties: bool, cold: bool) -> None:
    # With ties, a small catalogue and few score levels keep the brute-force enumeration small
    # while still making groups of several items, some of them cut by the cutoff.
    n_items = 14 if ties else 40
    data, parts, scores = random_case(seed=3 + ties + 2 * cold, n_items=n_items, ties=ties)
    cands = np.arange(0, data.n_items, 3) if cold else None
    split = make_split(parts, cands, cands)
    res = evaluate(FixedScores(scores), data, split, part, EvalConfig(ks=KS), with_ranks=True)
    ref = naive_lists(data, split, part, scores, cands)
    assert res.candidates == ("cold" if cold else "all")
    assert sorted(res.per_user["user"]) == sorted(ref) and res.n_users == len(ref) > 0
    per_user = res.per_user.set_index("user")
    for u, (groups, gt) in ref.items():
        assert per_user.loc[u, "n_relevant"] == len(gt)
        for k in KS:
            for name, value in naive_expected(groups, gt, k).items():
                assert per_user.loc[u, f"{name}@{k}"] == pytest.approx(value, abs=1e-12), (u, name, k)
    for k in KS:
        means = np.mean([naive_expected(*ref[u], k)["ndcg"] for u in ref])
        assert res.metrics[f"ndcg@{k}"] == pytest.approx(means)
    # Ranks: the expected 1-based position of each ground-truth item (mid-rank of its group).
    expected = []
    for u, (groups, gt) in ref.items():
        before = 0
        for g in groups:
            expected += [(u, i, before + (len(g) + 1) / 2) for i in g if i in gt]
            before += len(g)
    got = sorted(map(tuple, res.ranks[["user", "item", "rank"]].to_numpy().tolist()))
    assert got == sorted(expected)
    if not ties:
        for k in KS:  # no ties: coverage is the plain share of candidates in some top-k list
            covered = {i for groups, _ in ref.values() for i in [g[0] for g in groups][:k]}
            n_cand = data.n_items if cands is None else len(cands)
            assert res.coverage[f"coverage@{k}"] == pytest.approx(len(covered) / n_cand)


def test_train_items_masked_even_with_top_score() -> None:
    # user 0: train item 0 (highest score), valid item 1, test item 2.
    data = make_data(np.array([0, 0, 0]), np.array([0, 1, 2]), 1, 5)
    split = make_split(np.array([0, 1, 2]))
    scores = np.array([[10.0, 9.0, 1.0, 5.0, 4.0]])
    valid = evaluate(FixedScores(scores), data, split, "valid", EvalConfig(ks=(1, 2)), with_ranks=True)
    assert valid.metrics["hit@1"] == 1.0  # item 1 first, item 0 masked
    assert valid.ranks["rank"].tolist() == [1]
    test = evaluate(FixedScores(scores), data, split, "test", EvalConfig(ks=(1, 2)), with_ranks=True)
    # valid item 1 also masked: order 3 (5.0), 4 (4.0), 2 (1.0).
    assert test.ranks["rank"].tolist() == [3]
    assert test.metrics["hit@2"] == 0.0


def test_candidates_restrict_ranking() -> None:
    data = make_data(np.array([0, 0, 0]), np.array([0, 3, 4]), 1, 6)
    split = make_split(np.array([0, 2, 2]), None, np.array([3, 4]))
    scores = np.array([[9.0, 8.0, 7.0, 1.0, 2.0, 6.0]])
    out = evaluate_all(FixedScores(scores), data, split, "test", EvalConfig(ks=(1, 2)), with_ranks=True)
    cold, full = out["primary"], out["all_items"]
    assert cold.candidates == "cold" and full.candidates == "all"
    assert dict(zip(cold.ranks["item"], cold.ranks["rank"])) == {4: 1, 3: 2}
    assert cold.metrics["ndcg@2"] == pytest.approx(1.0)
    assert cold.coverage["coverage@1"] == 0.5  # 1 of 2 candidates listed
    # All items: 1, 2, 5 rank above (0 is masked).
    assert dict(zip(full.ranks["item"], full.ranks["rank"])) == {4: 4, 3: 5}
    assert full.metrics["hit@2"] == 0.0


def test_evaluate_all_without_candidates_gives_primary_only() -> None:
    data, parts, scores = random_case(seed=1)
    out = evaluate_all(FixedScores(scores), data, make_split(parts), "valid")
    assert list(out) == ["primary"] and out["primary"].candidates == "all"


def test_constant_scores_get_the_random_expectation_in_closed_form() -> None:
    n_items = 3000  # well past k, so any tie order would show
    data = make_data(np.array([0, 0, 1, 1, 1]), np.array([5, 2990, 0, 2999, 17]), 2, n_items)
    split = make_split(np.array([0, 2, 2, 0, 2]))
    ks = (1, 10)
    res = evaluate(FixedScores(np.zeros((2, n_items))), data, split, "test", EvalConfig(ks=ks), with_ranks=True)
    ranks = dict(zip(zip(res.ranks["user"], res.ranks["item"]), res.ranks["rank"]))
    assert ranks == {(0, 2990): 1500.0, (1, 0): 1500.0, (1, 17): 1500.0}  # mid-rank of 2999 unmasked items
    per_user = res.per_user.set_index("user")
    for u, n, r in ((0, 2999, 1), (1, 2999, 2)):  # unmasked candidates and relevant items per user
        for k in ks:
            disc = sum(1 / math.log2(p + 2) for p in range(k))
            idcg = sum(1 / math.log2(p + 2) for p in range(min(r, k)))
            closed = {
                "hit": 1 - math.comb(n - r, k) / math.comb(n, k),
                "precision": r / n,
                "recall": k / n,
                "ndcg": r / n * disc / idcg,
                # first relevant at position j (0-based): C(n-1-j, r-1) / C(n, r)
                "mrr": sum(math.comb(n - 1 - j, r - 1) / math.comb(n, r) / (j + 1) for j in range(k)),
            }
            for name, value in closed.items():
                assert per_user.loc[u, f"{name}@{k}"] == pytest.approx(value, rel=1e-10), (u, name, k)
    # The random reference is exactly what constant scores get.
    assert res.random == pytest.approx(res.metrics, rel=1e-12)
    # Each user's top 1 is one of its 2999 items at random; 2998 items are open to both users.
    p = 1 / 2999
    assert res.coverage["coverage@1"] == pytest.approx((2998 * (1 - (1 - p) ** 2) + 2 * p) / 3000, rel=1e-9)


def test_tied_scores_do_not_depend_on_the_item_order_of_the_file() -> None:
    # Scores with heavy ties; relabelling the items (a different file order) must not change
    # any metric, which breaking ties by index would (e.g. ids sorted by popularity).
    data, parts, scores = random_case(seed=31, n_users=50, n_items=80)
    split = make_split(parts)
    perm = np.random.default_rng(0).permutation(data.n_items)  # new id of item i is perm[i]
    relabelled = make_data(data.users, perm[data.items], data.n_users, data.n_items)
    new_scores = np.empty_like(scores)
    new_scores[:, perm] = scores
    cfg = EvalConfig(ks=(1, 5, 10))
    a = evaluate(FixedScores(scores), data, split, "test", cfg)
    b = evaluate(FixedScores(new_scores), relabelled, split, "test", cfg)
    assert a.metrics == pytest.approx(b.metrics, rel=1e-12)
    assert a.coverage == pytest.approx(b.coverage, rel=1e-12)


def test_tie_aware_metrics_match_a_monte_carlo_of_random_tie_breaking() -> None:
    data, parts, scores = random_case(seed=33, n_users=40, n_items=60)  # integer scores 0..3
    split = make_split(parts)
    cfg = EvalConfig(ks=(5, 10))
    exact = evaluate(FixedScores(scores), data, split, "test", cfg).metrics
    rng = np.random.default_rng(1)
    draws = [
        evaluate(FixedScores(scores + rng.random(scores.shape) * 1e-3), data, split, "test", cfg).metrics
        for _ in range(400)
    ]  # jitter < the 1.0 gap between levels: a random order inside ties
    for key, value in exact.items():
        samples = np.array([d[key] for d in draws])
        assert abs(samples.mean() - value) < 4 * samples.std() / math.sqrt(len(samples)) + 1e-12, key


def test_top_k_orders_like_a_stable_full_sort() -> None:
    rng = np.random.default_rng(0)
    scores = torch.from_numpy(rng.integers(0, 3, size=(64, 500)).astype(np.float32))
    scores[:8] = float("-inf")  # boundary groups of -inf, as with masked items
    vals, idx = top_k(scores, 20)
    ref_v, ref_i = torch.sort(scores, dim=1, descending=True, stable=True)
    assert torch.equal(idx, ref_i[:, :20]) and torch.equal(vals, ref_v[:, :20])


def test_users_without_ground_truth_are_absent() -> None:
    data = make_data(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 0, 1, 2]), 4, 3)
    split = make_split(np.array([0, 2, 0, 0, 2]))  # user 1: train only; user 3: nothing
    res = evaluate(FixedScores(np.zeros((4, 3))), data, split, "test", EvalConfig(ks=(1,)))
    assert res.per_user["user"].tolist() == [0, 2] and res.n_users == 2
    assert list(res.per_user.columns[:3]) == ["user", "n_relevant", "n_train"]
    assert res.per_user["n_train"].tolist() == [1, 1]


@pytest.mark.parametrize("chunk", [1, 7])
def test_chunking_gives_identical_results(chunk: int) -> None:
    data, parts, scores = random_case(seed=11)
    split = make_split(parts)
    cfg = EvalConfig(ks=(1, 5, 10))
    whole = evaluate(FixedScores(scores), data, split, "test", cfg, with_ranks=True)
    model = FixedScores(scores)
    part = evaluate(
        model,
        data,
        split,
        "test",
        EvalConfig(ks=(1, 5, 10), chunk_size=chunk),
        with_ranks=True,
        device=torch.device("cpu"),
    )
    assert max(model.calls) == chunk
    pd.testing.assert_frame_equal(whole.per_user, part.per_user)
    pd.testing.assert_frame_equal(whole.ranks, part.ranks)
    assert whole.metrics == part.metrics and whole.coverage == part.coverage
    assert whole.to_dict() == part.to_dict()


@pytest.mark.parametrize("ks", [(0,), (5, -1), (), (2.5,)])
def test_bad_ks_raise_config_error(ks: tuple) -> None:
    with pytest.raises(ConfigError) as err:
        EvalConfig(ks=ks)
    assert err.value.field == "ks"


def test_other_config_errors() -> None:
    with pytest.raises(ConfigError, match="chunk_size"):
        EvalConfig(chunk_size=0)
    with pytest.raises(ConfigError, match="metrics"):
        EvalConfig(metrics=("auc",))
    data, parts, scores = random_case(seed=2)
    with pytest.raises(ConfigError, match="part"):
        evaluate(FixedScores(scores), data, make_split(parts), "train")  # type: ignore[arg-type]  # a stand-in, not a Recommender
    empty = make_split(parts, np.array([], dtype=np.int64), None)
    with pytest.raises(DataError, match="candidates"):
        evaluate(FixedScores(scores), data, empty, "valid")


def test_model_modes_restored_and_inference_mode() -> None:
    data, parts, scores = random_case(seed=4)
    model = FixedScores(scores)
    model.inner = torch.nn.Dropout()
    model.train()
    model.inner.eval()  # mixed modes must come back exactly

    seen = []
    original = model.full_scores

    def spy(users: Tensor) -> Tensor:
        seen.append((model.training, torch.is_inference_mode_enabled()))
        return original(users)

    model.full_scores = spy  # type: ignore[method-assign]  # a spy around the method
    evaluate(model, data, make_split(parts), "valid")
    assert seen and all(s == (False, True) for s in seen)
    assert model.training and not model.inner.training


def test_non_finite_scores() -> None:
    data, parts, scores = random_case(seed=5, ties=False)
    bad = scores.copy()
    bad[:, 0] = np.nan
    with pytest.raises(RecCoreError, match="NaN"):
        evaluate(FixedScores(bad), data, make_split(parts), "valid")
    # +-inf from a model keeps its order and never lets a masked item back into a list.
    inf = scores.copy()
    inf[:, 0], inf[:, 1] = np.inf, -np.inf
    split = make_split(parts)
    res = evaluate(FixedScores(inf), data, split, "valid", EvalConfig(ks=(50,)), with_ranks=True)
    ref = naive_lists(data, split, "valid", inf, None)
    flat = {u: [i for g in groups for i in g] for u, (groups, _) in ref.items()}
    expected = sorted((u, i, flat[u].index(i) + 1) for u, (_, gt) in ref.items() for i in gt)
    assert sorted(map(tuple, res.ranks.to_numpy().tolist())) == expected


def test_scores_that_are_views_of_model_state_are_not_modified() -> None:
    class Popular(Recommender):
        def __init__(self) -> None:
            super().__init__(30, 40)
            self.register_buffer("row", torch.arange(40, dtype=torch.float32))

        def full_scores(self, users: Tensor) -> Tensor:
            return self.row.expand(len(users), -1)  # a view: masking must copy first

    data, parts, _ = random_case(seed=6)
    model = Popular()
    evaluate(model, data, make_split(parts), "test")
    assert torch.equal(model.row, torch.arange(40, dtype=torch.float32))


def test_to_dict_is_strict_json_and_task_is_cached() -> None:
    data, parts, scores = random_case(seed=8)
    split = make_split(parts)
    res = evaluate(FixedScores(scores), data, split, "valid")
    text = json.dumps(res.to_dict(), allow_nan=False)
    assert '"ndcg@10"' in text and res.ranks is None
    assert ranking_task(data, split, "valid") is ranking_task(data, split, "valid")
    other = make_data(data.users, data.items, data.n_users, data.n_items)
    assert ranking_task(other, split, "valid") is not ranking_task(data, split, "valid")


def test_part_without_ground_truth_gives_empty_result() -> None:
    data = make_data(np.array([0, 1]), np.array([0, 1]), 2, 3)
    res = evaluate(FixedScores(np.zeros((2, 3))), data, make_split(np.array([0, 0])), "test")
    assert res.n_users == 0 and len(res.per_user) == 0 and math.isnan(res.metrics["ndcg@10"])
    assert json.dumps(res.to_dict(), allow_nan=False)
