"""The Error analysis page's choices about users, as plain functions over the two runs'
per-user test tables (`user`: entity index, one column per metric)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["first_user", "metric_pair", "per_user_differences"]


def first_user(a_wins: pd.DataFrame, b_wins: pd.DataFrame, per_a: pd.DataFrame, user_ids: Sequence[object]) -> str:
    """The user shown first: the one run A helps most, else the one B helps most, else A's first."""
    first = a_wins if not a_wins.empty else b_wins
    return first["id"].iat[0] if not first.empty else str(user_ids[per_a["user"].iat[0]])


def metric_pair(per_a: pd.DataFrame, per_b: pd.DataFrame, user: int, metric: str) -> tuple[float, float] | None:
    """(A's, B's) `metric` of one user, or None when either run has no test value for them."""
    mine_a, mine_b = per_a[per_a["user"] == user], per_b[per_b["user"] == user]
    if mine_a.empty or mine_b.empty:
        return None
    return float(mine_a[metric].iat[0]), float(mine_b[metric].iat[0])


def per_user_differences(per_a: pd.DataFrame, per_b: pd.DataFrame, metric: str) -> np.ndarray:
    """A's `metric` minus B's for every user both runs tested (paired by user)."""
    merged = per_a[["user", metric]].merge(per_b[["user", metric]], on="user", suffixes=(" A", " B"))
    return (merged[f"{metric} A"] - merged[f"{metric} B"]).to_numpy()
