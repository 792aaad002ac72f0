"""Segments reported with every result: items by training popularity, users by activity.

Item segments (`item_segments`): `cold` items have no training interaction. The warm items are
sorted by training count, descending (ties by item index, so the cut is deterministic); the
first `head` fraction (default 10%) is `head`, the next `torso` fraction (30%) is `torso`, the
rest (60%) is `tail`. Segment metrics restrict each user's ground truth to the segment's items
and score the same ranking (it is not redone; ties are handled as in `expected_metrics`); users with no ground truth in the
segment are left out of that segment.

User segments (`user_activity_groups`): tertiles of the training-interaction count among the
evaluated users, labelled with their inclusive bounds, e.g. `users:low (<= 32)`,
`users:mid (33-80)`, `users:high (>= 81)`. Heavy ties can leave a tertile empty; it is then
omitted rather than reported with a misleading label.
"""

from __future__ import annotations

import numpy as np

from rec_core.errors import ConfigError
from rec_core.evaluate.metrics import expected_metrics

__all__ = [
    "ITEM_SEGMENTS",
    "item_segment_metrics",
    "item_segments",
    "user_activity_groups",
    "user_segment_metrics",
]

ITEM_SEGMENTS: tuple[str, ...] = ("cold", "tail", "torso", "head")  # least to most popular


def _round_half_up(x: float) -> int:
    # Python's round() rounds halves to even, which would make 0.5-item cuts flip oddly.
    return int(np.floor(x + 0.5 + 1e-9))


def item_segments(train_counts: np.ndarray, head: float = 0.1, torso: float = 0.3) -> np.ndarray:
    """Popularity segment of every item from its training count: (n_items,) str array of
    `cold`, `tail`, `torso` or `head` (rule in the module docstring)."""
    if not 0.0 < head <= 1.0:
        raise ConfigError("head", f"must be in (0, 1], got {head}")
    if not 0.0 <= torso <= 1.0 - head:
        raise ConfigError("torso", f"must be in [0, 1 - head], got {torso} with head {head}")
    counts = np.asarray(train_counts)
    if counts.ndim != 1 or (counts < 0).any():
        raise ConfigError("train_counts", "must be a 1-d array of non-negative counts")
    labels = np.full(len(counts), "tail", dtype="<U5")
    labels[counts == 0] = "cold"
    warm = np.flatnonzero(counts > 0)
    order = warm[np.lexsort((warm, -counts[warm]))]  # most popular first, ties by index
    n_head = _round_half_up(head * len(warm))
    n_head_torso = _round_half_up((head + torso) * len(warm))
    labels[order[:n_head]] = "head"
    labels[order[n_head:n_head_torso]] = "torso"
    return labels


def item_segment_metrics(
    user: np.ndarray,
    above: np.ndarray,
    tied: np.ndarray,
    gt_segment: np.ndarray,
    relevant_per_segment: np.ndarray,
    candidate_items_per_segment: np.ndarray,
    ks: tuple[int, ...],
    names: tuple[str, ...],
) -> dict[str, dict[str, float]]:
    """Tie-aware metrics with the ground truth restricted to each item segment.

    user, above, tied: (G,) per ground-truth item, as `expected_metrics` takes them (the same
    ranking for every segment: only which items count as relevant changes).
    gt_segment: (G,) segment code (index into ITEM_SEGMENTS) of each ground-truth item.
    relevant_per_segment: (E, n_segments) ground-truth items per user and segment.
    candidate_items_per_segment: (n_segments,) ranked (candidate) items per segment.
    Returns {segment: {"n_users", "n_items", "ndcg@10", ...}}; metrics are NaN for a segment
    without users.
    """
    out: dict[str, dict[str, float]] = {}
    for code, seg in enumerate(ITEM_SEGMENTS):
        n_rel = relevant_per_segment[:, code]
        users = np.flatnonzero(n_rel > 0)
        entry: dict[str, float] = {"n_users": int(len(users)), "n_items": int(candidate_items_per_segment[code])}
        pos = np.full(len(n_rel), -1, dtype=np.int64)
        pos[users] = np.arange(len(users))
        keep = gt_segment == code
        values = expected_metrics(pos[user[keep]], above[keep], tied[keep], n_rel[users], ks, names)
        for key, v in values.items():
            entry[key] = float(v.mean()) if len(v) else float("nan")
        out[seg] = entry
    return out


def user_activity_groups(n_train: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Tertile group of each evaluated user by training count.

    n_train: (E,) training interactions per evaluated user.
    Returns codes (E,) int8 in {0, 1, 2} (low, mid, high) and the three labels with their
    inclusive bounds (rule in the module docstring).
    """
    n_train = np.asarray(n_train)
    if len(n_train) == 0:
        return np.zeros(0, dtype=np.int8), ["users:low", "users:mid", "users:high"]
    # floor() keeps integer bounds: low is n <= t1, mid t1 < n <= t2, high n > t2.
    t1 = int(np.floor(np.quantile(n_train, 1 / 3)))
    t2 = int(np.floor(np.quantile(n_train, 2 / 3)))
    codes = np.where(n_train <= t1, 0, np.where(n_train <= t2, 1, 2)).astype(np.int8)
    labels = [f"users:low (<= {t1})", f"users:mid ({t1 + 1}-{t2})", f"users:high (>= {t2 + 1})"]
    return codes, labels


def user_segment_metrics(per_user: dict[str, np.ndarray], n_train: np.ndarray) -> dict[str, dict[str, float]]:
    """Per-user metrics averaged within each activity tertile.

    per_user: {"ndcg@10": (E,) values, ...}; n_train: (E,) training counts.
    Returns {label: {"n_users", "min_train", "max_train", "ndcg@10", ...}} for non-empty groups.
    """
    codes, labels = user_activity_groups(n_train)
    out: dict[str, dict[str, float]] = {}
    for code, label in enumerate(labels):
        members = codes == code
        if not members.any():
            continue
        entry: dict[str, float] = {
            "n_users": int(members.sum()),
            "min_train": int(n_train[members].min()),
            "max_train": int(n_train[members].max()),
        }
        for key, values in per_user.items():
            entry[key] = float(values[members].mean())
        out[label] = entry
    return out
