"""Where two runs differ, user by user: one user's case, who gains most, what is never found.

Every top-10 here is ranked the way `rec_core.evaluate` ranks the test part: the user's
training and validation items are masked and a cold-items split ranks its held-out candidates
only (`rec_core.evaluate.top_items`, the evaluation's own masking). A displayed list must
show some order, so equal scores are listed by item index (`evaluate.top_k`); the metrics do
not depend on that order (they are tie-aware). The rank of a test item comes from the run's
stored `ranks_test` table, which `evaluate` wrote: the expected rank under random
tie-breaking (x.5 inside an even tie), so the page and the metrics never disagree
(`run_test_ranks` falls back to recomputing it with `evaluate`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rec_core.analysis.entities import entity_labels, item_segment_of, train_counts
from rec_core.data.interactions import InteractionData
from rec_core.errors import RecCoreError
from rec_core.evaluate import ITEM_SEGMENTS, evaluate, top_items, user_activity_groups
from rec_core.setting import setting_mismatch
from rec_core.split import Split

__all__ = [
    "TOP_K",
    "TopLists",
    "check_same_split",
    "top_lists",
    "run_test_ranks",
    "user_profile",
    "training_history",
    "held_out_items",
    "held_out_table",
    "top_side_by_side",
    "item_titles",
    "user_differences",
    "never_retrieved",
    "segment_counts",
]

TOP_K = 10


@dataclass(frozen=True, eq=False)
class TopLists:
    """The top-k lists of a run for `users` (ranked as `evaluate` ranks the test part)."""

    users: np.ndarray  # (E,) int64 user indices, ascending
    items: np.ndarray  # (E, k) int64 item indices; -1 where fewer than k items could be ranked
    k: int

    def of(self, user: int) -> np.ndarray:
        """(k,) the list of `user` (-1 padded); KeyError if the user is not in these lists."""
        pos = int(np.searchsorted(self.users, user))
        if pos >= len(self.users) or self.users[pos] != user:
            raise KeyError(user)
        return self.items[pos]


def check_same_split(config_a: Any, config_b: Any) -> None:
    """RecCoreError unless two RunConfigs share data, split and seed (users can then be paired)."""
    mismatch = setting_mismatch(config_a.to_dict(), config_b.to_dict(), compare_location=True)
    if mismatch is None and config_a.seed == config_b.seed:
        return
    differ = f"{mismatch[0]} vs {mismatch[1]}" if mismatch else f"seed {config_a.seed} vs seed {config_b.seed}"
    raise RecCoreError(
        f"The two runs were tested on different data or splits ({differ}), so their users cannot "
        "be compared one by one. Pick two runs with the same dataset, split and seed."
    )


def top_lists(
    model: Any, data: InteractionData, split: Split, users: Sequence[int] | np.ndarray | None = None, k: int = TOP_K
) -> TopLists:
    """Top-k of `users` (default: every user the test evaluation ranks) for the test part,
    from `rec_core.evaluate.top_items`: the evaluation's own candidates, masks and scores."""
    ranked, items = top_items(model, data, split, None if users is None else np.asarray(users), k, "test")
    return TopLists(users=ranked, items=items, k=k)


def run_test_ranks(
    run: Any, model: Any | None = None, data: InteractionData | None = None, split: Split | None = None
) -> pd.DataFrame:
    """(user, item, rank) of every test item: the run's stored `ranks_test` table, or, when a
    run has none, `evaluate(..., with_ranks=True)` on its model (data and split needed)."""
    from rec_core.runs import RunFileNotFound

    try:
        return run.read_table("ranks_test")[["user", "item", "rank"]]
    except RunFileNotFound:
        if model is None or data is None or split is None:
            raise
    result = evaluate(model, data, split, "test", with_ranks=True)
    assert result.ranks is not None
    return result.ranks


def item_titles(data: InteractionData) -> list[str]:
    """Each item's label (title (year)), with its raw id beside it where another item has the
    same label: ML-100K lists some films twice under two ids, and "Chasing Amy (1997)" in both a
    user's history and top-10 would otherwise look like an item that was never masked."""
    labels = entity_labels(data, "item")
    counts = Counter(labels)
    ids = data.item_ids.astype(str)
    return [f"{label} · id {ids[i]}" if counts[label] > 1 else label for i, label in enumerate(labels)]


def user_profile(data: InteractionData, user: int) -> dict[str, str]:
    """The user's raw id, profile text and fields (age, gender, occupation, ...) as strings."""
    fields = data.user_fields.iloc[user].to_dict() if len(data.user_fields) > user else {}
    shown = {
        k: ", ".join(map(str, v)) if isinstance(v, (list, tuple, np.ndarray)) else str(v)
        for k, v in fields.items()
        if not (np.isscalar(v) and pd.isna(v))
    }
    return {"id": str(data.user_ids[user]), "text": data.user_text.texts[user], **shown}


def _times(stamps: np.ndarray) -> pd.Series | np.ndarray:
    # Sources without times number the rows 0..n-1; only real Unix seconds become dates.
    if len(stamps) and stamps.max() > 10**8:
        return pd.to_datetime(stamps, unit="s")
    return stamps


def training_history(data: InteractionData, split: Split, user: int) -> pd.DataFrame:
    """The user's training interactions, oldest first: item, id, title, rating, time."""
    rows = split.train[data.users[split.train] == user]
    rows = rows[np.argsort(data.timestamps[rows], kind="stable")]
    items = data.items[rows]
    labels = item_titles(data)
    return pd.DataFrame(
        {
            "item": items,
            "id": data.item_ids[items].astype(str),
            "title": [labels[i] for i in items],
            "rating": data.ratings[rows],
            "time": _times(data.timestamps[rows]),
        }
    )


def held_out_items(data: InteractionData, split: Split, user: int) -> np.ndarray:
    """The user's test items that the test ranking counts (candidates only in cold-items)."""
    items = np.unique(data.items[split.test[data.users[split.test] == user]])
    cand = split.candidates("test")
    return items if cand is None else items[np.isin(items, cand)]


def held_out_table(data: InteractionData, split: Split, user: int, ranks: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The user's held-out test items: id, title, segment (head, torso, tail, cold), then the
    rank each run gives it."""
    items = held_out_items(data, split, user)
    labels = item_titles(data)
    segments = item_segment_of(data, split)
    out = pd.DataFrame(
        {
            "item": items,
            "id": data.item_ids[items].astype(str),
            "title": [labels[i] for i in items],
            "segment": [str(segments[i]) for i in items],
        }
    )
    for name, table in ranks.items():
        mine = table[table["user"] == user].set_index("item")["rank"]
        # Expected ranks: whole numbers unless the item ties with others (then x.5 may occur).
        out[name] = [float(mine[i]) if i in mine.index else None for i in items]
    return out


def top_side_by_side(
    data: InteractionData, split: Split, user: int, tops: Mapping[str, np.ndarray], k: int = TOP_K
) -> pd.DataFrame:
    """Rank 1..k, then per run its item title and whether it is a held-out test item (a hit)."""
    truth = set(held_out_items(data, split, user).tolist())
    labels = item_titles(data)
    out = pd.DataFrame({"rank": np.arange(1, k + 1)})
    for name, items in tops.items():
        items = np.asarray(items)[:k]
        out[name] = [labels[i] if i >= 0 else "" for i in items]
        out[f"{name} hit"] = [bool(i in truth) for i in items]
    return out


def segment_counts(items: np.ndarray, segments: np.ndarray) -> dict[str, int]:
    """How many of `items` fall in each popularity segment, e.g. {"tail": 2, "head": 1}, in
    ITEM_SEGMENTS order; segments holding none of them are left out."""
    found = pd.Series(segments[items]).value_counts()
    return {s: int(found[s]) for s in ITEM_SEGMENTS if s in found.index}


def user_differences(
    per_user_a: pd.DataFrame,
    per_user_b: pd.DataFrame,
    data: InteractionData,
    split: Split,
    metric: str = "ndcg@10",
    n: int = 20,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Users where run A beats run B most and the reverse, by the per-user `metric` difference.

    Each table: user, id, diff (A - B), metric of A and B, activity (low, mid, high: tertiles
    as evaluate's user segments), n_train, test_segments (`segment_counts` of the user's
    held-out items), profile.
    """
    for name, table in (("A", per_user_a), ("B", per_user_b)):
        if metric not in table.columns:
            raise RecCoreError(
                f"run {name} has no per-user {metric}; its per-user table has "
                f"{', '.join(c for c in table.columns if '@' in c)}"
            )
    merged = per_user_a[["user", "n_train", metric]].merge(
        per_user_b[["user", metric]], on="user", suffixes=(" A", " B")
    )
    if merged.empty:
        raise RecCoreError("The two runs share no test users.")
    merged["diff"] = merged[f"{metric} A"] - merged[f"{metric} B"]
    codes, _ = user_activity_groups(merged["n_train"].to_numpy())
    merged["activity"] = np.array(["low", "mid", "high"])[codes]
    labels = entity_labels(data, "user")
    segments = item_segment_of(data, split)

    def finish(part: pd.DataFrame) -> pd.DataFrame:
        users = part["user"].to_numpy()
        part = part.assign(
            id=data.user_ids[users].astype(str),
            profile=[labels[u] for u in users],
            test_segments=[segment_counts(held_out_items(data, split, u), segments) for u in users],
        )
        cols = ["user", "id", "diff", f"{metric} A", f"{metric} B", "activity", "n_train", "test_segments", "profile"]
        return part[cols].reset_index(drop=True)

    ordered = merged.sort_values(["diff", "user"], ascending=[False, True], kind="stable")
    a_wins = ordered[ordered["diff"] > 0].head(n)
    b_wins = merged.sort_values(["diff", "user"], kind="stable")
    return finish(a_wins), finish(b_wins[b_wins["diff"] < 0].head(n))


def never_retrieved(
    data: InteractionData, split: Split, tops: Mapping[str, TopLists]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Test items that no user's top-k retrieves, per run.

    Returns (summary, items). summary: one row per popularity segment with the number of
    test items and, per run, how many of them no top-k list holds. items: every test item
    missed by at least one run: item, id, title, segment, train_count, test_users, and per
    run True where that run never retrieves it.
    """
    cand = split.candidates("test")
    test_items = data.items[split.test]
    if cand is not None:
        test_items = test_items[np.isin(test_items, cand)]
    items, n_users = np.unique(test_items, return_counts=True)
    segments = item_segment_of(data, split)
    missed = {name: ~np.isin(items, lists.items[lists.items >= 0]) for name, lists in tops.items()}
    rows = []
    for seg in ITEM_SEGMENTS:
        in_seg = segments[items] == seg
        if not in_seg.any():
            continue
        row: dict[str, object] = {"segment": seg, "test_items": int(in_seg.sum())}
        for name, miss in missed.items():
            row[name] = int((miss & in_seg).sum())
        rows.append(row)
    summary = pd.DataFrame(rows, columns=["segment", "test_items", *missed])
    any_miss = np.logical_or.reduce(list(missed.values())) if missed else np.zeros(len(items), bool)
    labels = item_titles(data)
    keep = items[any_miss]
    counts = train_counts(data, split, "item")
    table = pd.DataFrame(
        {
            "item": keep,
            "id": data.item_ids[keep].astype(str),
            "title": [labels[i] for i in keep],
            "segment": [str(segments[i]) for i in keep],
            "train_count": counts[keep],
            "test_users": n_users[any_miss],
        }
    )
    for name, miss in missed.items():
        table[name] = miss[any_miss]
    return summary, table.sort_values(["test_users", "item"], ascending=[False, True]).reset_index(drop=True)
