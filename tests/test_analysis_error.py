"""rec_core.analysis.error_analysis: top-10 lists and ranks agree with rec_core.evaluate."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from rec_core.analysis import (
    check_same_split,
    load_model,
    never_retrieved,
    open_run,
    run_config,
    held_out_table,
    run_test_ranks,
    top_lists,
    top_side_by_side,
    training_history,
    user_differences,
    user_profile,
)
from rec_core.analysis.error_analysis import held_out_items
from rec_core.errors import RecCoreError
from rec_core.analysis import recommended_items
from rec_core.evaluate import ITEM_SEGMENTS, evaluate, item_segments, top_items
from rec_core.experiment import prepare_data
from rec_core.models.base import TrainContext
from rec_core.models.mf import MF, MFConfig
from rec_core.runs import RunFileNotFound, RunStore
from rec_app.analysis.tables import localized
from rec_app.i18n import segment_label
from tests.helpers import split_of, synthetic


def _random_mf(data, split, seed: int = 0) -> MF:
    torch.manual_seed(seed)
    model = MF(data.n_users, data.n_items, MFConfig(embed_dim=8))
    model.prepare(TrainContext(data.n_users, data.n_items, data.users[split.train], data.items[split.train]))
    return model.eval()


def _agree(lists, ranks: pd.DataFrame) -> None:
    """Every test item ranked <= k sits at exactly that place of the user's list, and no other
    test item is in the list."""
    for row in ranks.itertuples():
        listed = lists.of(row.user)
        assert float(row.rank).is_integer()  # distinct scores: no mid-rank
        if row.rank <= lists.k:
            assert listed[int(row.rank) - 1] == row.item
        else:
            assert row.item not in listed


@pytest.mark.parametrize("kind", ["ratio", "loo", "cold-items"])
def test_top_lists_agree_with_evaluate(kind: str) -> None:
    data = synthetic()
    split = split_of(data, kind)
    model = _random_mf(data, split)
    result = evaluate(model, data, split, "test", with_ranks=True)
    lists = top_lists(model, data, split)
    if kind != "cold-items":
        _agree(lists, result.ranks)
        return
    # MF gives every unseen item the same score: each held-out item's rank is the mid-rank of
    # all the user's candidates, whatever order the displayed list shows them in.
    n_cand = len(split.candidates("test"))
    for row in result.ranks.itertuples():
        n_masked = int(
            np.isin(data.items[split.valid][data.users[split.valid] == row.user], split.candidates("test")).sum()
        )
        assert row.rank == pytest.approx((n_cand - n_masked + 1) / 2)
    per_user_hit = result.per_user.set_index("user")["hit@10"]
    for u, hit in per_user_hit.items():
        truth = set(held_out_items(data, split, int(u)).tolist())
        assert bool(truth & set(lists.of(int(u)).tolist())) == bool(hit)
    masked = np.concatenate([split.train, split.valid])
    for u in lists.users[:20]:  # training and validation items never appear
        assert not set(data.items[masked][data.users[masked] == u]) & set(lists.of(int(u)).tolist())
    if kind == "cold-items":
        assert set(lists.items[lists.items >= 0].tolist()) <= set(split.candidates("test").tolist())


def test_constant_scores_list_by_index_but_rank_at_the_tie_midpoint() -> None:
    data = synthetic()
    split = split_of(data)
    model = _random_mf(data, split)
    for p in model.parameters():  # every score equal
        p.data.zero_()
    lists = top_lists(model, data, split)
    ranks = evaluate(model, data, split, "test", with_ranks=True).ranks
    u = int(lists.users[0])
    masked = set(
        data.items[np.concatenate([split.train, split.valid])][
            data.users[np.concatenate([split.train, split.valid])] == u
        ].tolist()
    )
    # A displayed list needs some order: item index, documented as such ...
    assert lists.of(u).tolist() == [i for i in range(data.n_items) if i not in masked][:10]
    # ... while evaluation gives every held-out item the expected rank of a random tie order.
    n_ranked = data.n_items - len(masked)
    assert (ranks[ranks["user"] == u]["rank"] == (n_ranked + 1) / 2).all()


def test_analysis_lists_are_evaluates_top_items() -> None:
    """The Error analysis lists and the Attention page's recommendations are
    `evaluate.top_items` itself: same users, same items, also for a user without test items."""
    data = synthetic()
    split = split_of(data, "loo")
    model = _random_mf(data, split)
    lists = top_lists(model, data, split)
    users, items = top_items(model, data, split, k=10)
    assert np.array_equal(lists.users, users) and np.array_equal(lists.items, items)
    assert np.array_equal(users, evaluate(model, data, split, "test").per_user["user"].to_numpy())
    no_test = sorted(set(range(data.n_users)) - set(data.users[split.test].tolist()))
    picked = [int(users[0]), *no_test[:1], int(users[-1])]
    one_by_one = top_lists(model, data, split, users=picked)
    _, expected = top_items(model, data, split, picked, k=10)
    assert np.array_equal(one_by_one.items, expected)
    for u in picked:
        assert recommended_items(model, data, split, u, k=5) == top_items(model, data, split, [u], k=5)[1][0].tolist()


class _Float64Scores(torch.nn.Module):
    """Scores that differ only below float32 precision: item i scores 1 + i * 1e-12."""

    def __init__(self, n_items: int) -> None:
        super().__init__()
        self.n_items = n_items

    def full_scores(self, users: torch.Tensor) -> torch.Tensor:
        return (1.0 + torch.arange(self.n_items, dtype=torch.float64) * 1e-12).expand(len(users), -1).clone()


def test_lists_rank_the_scores_evaluate_ranks_not_a_rounded_copy() -> None:
    # evaluate ranks float64 scores as they are (highest index first here); a list computed on
    # float32-rounded scores would see one big tie and list the lowest indices instead.
    data = synthetic()
    split = split_of(data)
    model = _Float64Scores(data.n_items)
    lists = top_lists(model, data, split)
    ranks = evaluate(model, data, split, "test", with_ranks=True).ranks
    _agree(lists, ranks)
    u = int(lists.users[0])
    masked = set(
        data.items[np.concatenate([split.train, split.valid])][
            data.users[np.concatenate([split.train, split.valid])] == u
        ].tolist()
    )
    assert lists.of(u).tolist() == [i for i in reversed(range(data.n_items)) if i not in masked][:10]


@pytest.fixture(scope="module")
def two_runs(analysis_runs: Path) -> tuple:
    store = RunStore(analysis_runs)
    a, b = open_run(store, "attn-c0"), open_run(store, "mf")
    data, split = prepare_data(run_config(a))
    return a, b, load_model(a, data), load_model(b, data), data, split


def test_stored_ranks_equal_a_fresh_evaluation_of_the_reloaded_model(two_runs: tuple) -> None:
    run_a, _, model_a, _, data, split = two_runs
    stored = run_test_ranks(run_a).sort_values(["user", "item"]).reset_index(drop=True)
    fresh = evaluate(model_a, data, split, "test", with_ranks=True).ranks.sort_values(["user", "item"])
    assert stored.equals(fresh.reset_index(drop=True))
    _agree(top_lists(model_a, data, split), stored)

    class NoRanks:  # a run folder written before ranks were stored: recomputed with evaluate
        def read_table(self, name: str) -> pd.DataFrame:
            raise RunFileNotFound(run_a.path / "tables" / f"{name}.parquet")

    recomputed = run_test_ranks(NoRanks(), model_a, data, split).sort_values(["user", "item"]).reset_index(drop=True)
    assert recomputed.equals(stored)
    with pytest.raises(RunFileNotFound):
        run_test_ranks(NoRanks())


def test_one_user_case(two_runs: tuple) -> None:
    run_a, run_b, model_a, model_b, data, split = two_runs
    ranks = {"A": run_test_ranks(run_a), "B": run_test_ranks(run_b)}
    u = int(ranks["A"]["user"].iat[0])
    profile = user_profile(data, u)
    assert profile["id"] == str(data.user_ids[u]) and profile["text"] == data.user_text.texts[u]
    assert {"age", "gender", "occupation"} <= set(profile)
    history = training_history(data, split, u)
    assert len(history) == int((data.users[split.train] == u).sum())
    assert history["time"].is_monotonic_increasing and set(history["rating"]) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    held = held_out_table(data, split, u, ranks)
    truth = ranks["A"][ranks["A"]["user"] == u].set_index("item")["rank"]
    assert sorted(held["item"]) == sorted(truth.index) and all(held["A"] == [truth[i] for i in held["item"]])
    tops = {"A": top_lists(model_a, data, split, users=[u]).items[0], "B": top_lists(model_b, data, split).of(u)}
    side = top_side_by_side(data, split, u, tops)
    assert list(side["rank"]) == list(range(1, 11)) and list(side.columns) == ["rank", "A", "A hit", "B", "B hit"]
    assert side["A hit"].sum() == int((truth <= 10).sum())


def test_user_differences_and_never_retrieved(two_runs: tuple) -> None:
    run_a, run_b, model_a, model_b, data, split = two_runs
    per_a, per_b = run_a.read_table("per_user_test"), run_b.read_table("per_user_test")
    a_wins, b_wins = user_differences(per_a, per_b, data, split, "ndcg@10", n=5)
    assert len(a_wins) <= 5 and (a_wins["diff"] > 0).all() and a_wins["diff"].is_monotonic_decreasing
    assert (b_wins["diff"] < 0).all() and b_wins["diff"].is_monotonic_increasing
    both = per_a.merge(per_b, on="user", suffixes=("_a", "_b"))
    assert a_wins["diff"].iat[0] == pytest.approx((both["ndcg@10_a"] - both["ndcg@10_b"]).max())
    assert set(a_wins["activity"]) <= {"low", "mid", "high"}
    for counts, user in zip(a_wins["test_segments"], a_wins["user"]):  # data, in ITEM_SEGMENTS order
        assert counts and list(counts) == [s for s in ITEM_SEGMENTS if s in counts]
        assert sum(counts.values()) == len(held_out_items(data, split, int(user)))
    shown = localized(a_wins, "en")  # the page's text: `2 tail, 1 head`
    first = a_wins["test_segments"].iat[0]
    assert shown["test_segments"].iat[0] == ", ".join(f"{n} {segment_label(s, 'en')}" for s, n in first.items())
    assert set(localized(a_wins, "zh")["activity"]) <= {segment_label(x, "zh") for x in ("low", "mid", "high")}
    with pytest.raises(RecCoreError, match="no per-user"):
        user_differences(per_a, per_b.drop(columns=["ndcg@10"]), data, split)
    lists = {"A": top_lists(model_a, data, split), "B": top_lists(model_b, data, split)}
    summary, items = never_retrieved(data, split, lists)
    segments = item_segments(np.bincount(data.items[split.train], minlength=data.n_items))
    test_items = np.unique(data.items[split.test])
    for name, tl in lists.items():
        missed = set(test_items) - set(tl.items[tl.items >= 0].tolist())
        assert summary[name].sum() == len(missed) and set(items.loc[items[name], "item"]) == missed
    assert summary["test_items"].sum() == len(test_items)
    assert set(items["segment"]) <= set(segments) and set(summary["segment"]) <= set(ITEM_SEGMENTS)


def test_runs_on_other_splits_cannot_be_paired(two_runs: tuple) -> None:
    run_a = two_runs[0]
    config = run_config(run_a)
    check_same_split(config, config)
    other = dataclasses.replace(config, seed=1)
    with pytest.raises(RecCoreError, match="different data or splits"):
        check_same_split(config, other)


def test_repeated_titles_carry_their_ids_in_every_title_column() -> None:
    # issue 23 item 9: ML-100K lists some films under two ids with one title; a top-10 showing the
    # title of a history item looked like a masking bug.
    data = synthetic()
    fields = data.item_fields.copy()
    fields.loc[[0, 1], ["title", "year"]] = ["Chasing Amy", 1997]
    data = dataclasses.replace(data, item_fields=fields)
    split = split_of(synthetic())
    twins = {0: "Chasing Amy (1997) · id 1", 1: "Chasing Amy (1997) · id 2"}
    user = int(data.users[split.train][data.items[split.train] == 0][0])
    history = training_history(data, split, user)
    assert twins[0] in set(history["title"])
    side = top_side_by_side(data, split, user, {"A": np.arange(1, 11), "B": np.arange(10)})
    assert side["A"].iat[0] == twins[1] and side["B"].iat[0] == twins[0]
    assert "· id" not in side["A"].iat[1]  # a title of its own is shown as it is
