"""Top-K ranking metrics as small pure functions on a hits matrix (RecBole's definitions).

Every metric takes `hits`, a bool tensor (B, K) where `hits[u, r]` is True when the item at
rank r + 1 of user u's list is relevant, plus `n_relevant` (B,) where the metric needs it,
and returns per-user values (B,) float64. Averaging over users is the caller's job: users
without relevant items are excluded upstream rather than scored 0 (PROTOCOL.md).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import Tensor

from rec_core.configs.eval import METRIC_NAMES
from rec_core.errors import ConfigError

__all__ = [
    "METRIC_NAMES",
    "compute_metrics",
    "dcg",
    "expected_metrics",
    "hit",
    "metric_key",
    "mrr",
    "ndcg",
    "precision",
    "recall",
]


def _top(hits: Tensor, k: int) -> Tensor:
    """The first k columns of `hits` after checking k; (B, k) bool."""
    if k <= 0:
        raise ConfigError("ks", f"a cutoff must be > 0, got {k}")
    if k > hits.shape[1]:
        raise ConfigError("ks", f"cutoff {k} exceeds the list length {hits.shape[1]}")
    return hits[:, :k].bool()


def _discounts(k: int, device: torch.device) -> Tensor:
    """1 / log2(r + 1) for ranks r = 1..k; (k,) float64."""
    return 1.0 / torch.log2(torch.arange(2, k + 2, dtype=torch.float64, device=device))


def dcg(gains: Tensor) -> Tensor:
    """Discounted cumulative gain of graded gains (..., K) in rank order: sum gain_r / log2(r + 1).

    Range [0, inf). With gains (3, 2, 3, 0, 1, 2) this is Wikipedia's DCG_6 ~= 6.861. The binary
    `ndcg` below is this with 0/1 gains; graded gains serve tests and explorations only.
    """
    gains = gains.to(torch.float64)
    return (gains * _discounts(gains.shape[-1], gains.device)).sum(-1)


def hit(hits: Tensor, k: int) -> Tensor:
    """Hit@k: 1.0 when any of the top k is relevant, else 0.0. Range [0, 1]; (B,)."""
    return _top(hits, k).any(1).to(torch.float64)


def precision(hits: Tensor, k: int) -> Tensor:
    """Precision@k: relevant items in the top k divided by k. Range [0, 1]; (B,)."""
    return _top(hits, k).sum(1).to(torch.float64) / k


def recall(hits: Tensor, n_relevant: Tensor, k: int) -> Tensor:
    """Recall@k: relevant items in the top k divided by all relevant items (RecBole's form,
    not capped at k, so a user with more than k relevant items cannot reach 1).

    Range [0, 1]; (B,). NaN where n_relevant == 0 (undefined, never 0).
    """
    found = _top(hits, k).sum(1).to(torch.float64)
    return found / n_relevant.to(device=found.device, dtype=torch.float64)


def mrr(hits: Tensor, k: int) -> Tensor:
    """MRR@k: 1 / rank of the first relevant item within the top k, 0.0 if none.

    Range [0, 1]; (B,).
    """
    top = _top(hits, k)
    first = top.to(torch.int8).argmax(1)  # argmax returns the first maximal index
    rr = 1.0 / (first.to(torch.float64) + 1.0)
    return torch.where(top.any(1), rr, torch.zeros_like(rr))


def ndcg(hits: Tensor, n_relevant: Tensor, k: int) -> Tensor:
    """NDCG@k with binary relevance and log2 discount; the ideal DCG puts min(n_relevant, k)
    relevant items first.

    Range [0, 1]; (B,). NaN where n_relevant == 0.
    """
    top = _top(hits, k)
    disc = _discounts(k, top.device)
    dcg_u = (top.to(torch.float64) * disc).sum(1)
    ideal = torch.cumsum(disc, 0)  # ideal[m - 1] = IDCG with m relevant items
    n_rel = n_relevant.to(top.device).long()
    idcg = ideal[(n_rel.clamp(1, k) - 1)]
    out = dcg_u / idcg
    return torch.where(n_rel > 0, out, torch.full_like(out, float("nan")))


# One uniform signature (hits, n_relevant, k) so callers can loop over names.
_METRICS: dict[str, Callable[[Tensor, Tensor, int], Tensor]] = {
    "hit": lambda h, n, k: hit(h, k),
    "ndcg": ndcg,
    "recall": recall,
    "mrr": lambda h, n, k: mrr(h, k),
    "precision": lambda h, n, k: precision(h, k),
}
if tuple(_METRICS) != METRIC_NAMES:  # the config layer validates names against its own copy
    raise AssertionError(f"METRIC_NAMES {METRIC_NAMES} != the metrics computed here {tuple(_METRICS)}")


def metric_key(name: str, k: int) -> str:
    """The key a metric is reported under, e.g. `ndcg@10`."""
    return f"{name}@{k}"


def compute_metrics(
    hits: Tensor, n_relevant: Tensor, ks: tuple[int, ...], names: tuple[str, ...] = METRIC_NAMES
) -> dict[str, Tensor]:
    """Every metric in `names` at every cutoff in `ks`: {"ndcg@10": (B,) float64, ...}.

    Keys are ordered by metric, then cutoff. `hits` must have at least max(ks) columns.
    """
    unknown = [n for n in names if n not in _METRICS]
    if unknown:
        raise ConfigError("metrics", f"unknown metric(s) {unknown}; allowed: {', '.join(METRIC_NAMES)}")
    return {metric_key(n, k): _METRICS[n](hits, n_relevant, k) for n in names for k in ks}


# -- Tie-aware metrics -----------------------------------------------------------------------------
#
# McSherry and Najork (ECIR 2008): when a model gives several items the same score, report the
# expected value of each metric over all orderings of every tied group, each ordering equally
# likely. The input is, for every ground-truth item, where its tied group sits in the ranked list:
# `above` items score strictly higher and `tied` items (itself included) score the same, so the
# item is equally likely to stand at any position in [above, above + tied). Items from one user's
# ground truth in the same group share (above, tied). Without ties (tied == 1 everywhere) every
# formula below reduces to the deterministic metric exactly (no rounding: see the special cases).


def _log_not_relevant(n: np.ndarray, r: np.ndarray, k: int) -> np.ndarray:
    """(G, k): log(1 - r / (n - i)) for i = 0..k-1, the log-probability that slot i of a tied
    group of n items with r relevant is not relevant given slots 0..i-1 were not; -inf once
    the irrelevant items are used up (and beyond the group's end, where it is never read)."""
    i = np.arange(k)[None, :]
    share = np.minimum(r[:, None] / np.maximum(n[:, None] - i, 1), 1.0)
    return np.log1p(-share)


def expected_metrics(
    user: np.ndarray,
    above: np.ndarray,
    tied: np.ndarray,
    n_relevant: np.ndarray,
    ks: tuple[int, ...],
    names: tuple[str, ...] = METRIC_NAMES,
) -> dict[str, np.ndarray]:
    """Tie-aware metrics per user: {"ndcg@10": (B,) float64, ...}, keys ordered like
    `compute_metrics`.

    user: (G,) row (0..B-1) of each relevant item; above, tied: (G,) its group's position (see
    the section comment); n_relevant: (B,) relevant items per user, the ideal-DCG and recall
    denominators (a user may have relevant items that are not in `user`: they count as never
    ranked). Recall and NDCG are NaN where n_relevant == 0, as in `compute_metrics`.
    """
    unknown = [n for n in names if n not in _METRICS]
    if unknown:
        raise ConfigError("metrics", f"unknown metric(s) {unknown}; allowed: {', '.join(METRIC_NAMES)}")
    user = np.asarray(user, dtype=np.int64)
    lo = np.asarray(above, dtype=np.int64)
    n = np.asarray(tied, dtype=np.int64)
    if np.any(n < 1):
        raise ValueError("every ground-truth item's tied group holds at least the item itself")
    n_rel = np.asarray(n_relevant, dtype=np.float64)
    n_users = len(n_rel)
    hi = lo + n
    # One tied group per (user, above): r relevant items among its n members.
    group_key, group_of = np.unique(user * (int(hi.max(initial=0)) + 1) + lo, return_inverse=True)
    first_of_group = np.zeros(len(group_key), dtype=np.int64)
    first_of_group[group_of[::-1]] = np.arange(len(user))[::-1]
    g_user, g_lo, g_n = user[first_of_group], lo[first_of_group], n[first_of_group]
    g_r = np.bincount(group_of, minlength=len(group_key)).astype(np.int64)
    # The first group holding a relevant item decides MRR: the smallest `above` of each user.
    order = np.lexsort((g_lo, g_user))
    first_group = order[np.r_[True, g_user[order][1:] != g_user[order][:-1]]] if len(order) else order
    out: dict[str, np.ndarray] = {}
    max_k = max(ks)
    cum_disc = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(2, max_k + 2, dtype=np.float64)))])
    with np.errstate(divide="ignore", invalid="ignore"):
        for name in names:
            for k in ks:
                if k <= 0:
                    raise ConfigError("ks", f"a cutoff must be > 0, got {k}")
                out[metric_key(name, k)] = _expected(
                    name, k, user, lo, hi, n, n_rel, n_users, cum_disc, (g_user, g_lo, g_n, g_r), first_group
                )
    return out


def _expected(
    name: str,
    k: int,
    user: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    n: np.ndarray,
    n_rel: np.ndarray,
    n_users: int,
    cum_disc: np.ndarray,
    groups: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    first_group: np.ndarray,
) -> np.ndarray:
    """One tie-aware metric at cutoff k per user (see `expected_metrics`)."""
    if name in ("precision", "recall"):
        # Expected relevant items in the top k: each relevant item is inside with probability
        # (positions of its group inside the top k) / (group size).
        inside = np.clip(np.minimum(hi, k) - lo, 0, None) / n
        found = np.bincount(user, weights=inside, minlength=n_users)
        return found / k if name == "precision" else found / n_rel
    if name == "ndcg":
        # Each relevant item's expected discount is the mean discount over its group's positions.
        gain = (cum_disc[np.minimum(hi, k)] - cum_disc[np.minimum(lo, k)]) / n
        dcg = np.bincount(user, weights=gain, minlength=n_users)
        idcg = cum_disc[np.clip(n_rel, 1, k).astype(np.int64)]
        return np.where(n_rel > 0, dcg / idcg, np.nan)
    g_user, g_lo, g_n, g_r = groups
    if name == "hit":
        # P(no relevant item in the top k) = product over groups of P(none of the group's r
        # relevant items falls in its m slots inside the top k) = prod_{i<m} (1 - r / (n - i)).
        m = np.clip(k - g_lo, 0, g_n)
        log_none = np.where(np.arange(k)[None, :] < m[:, None], _log_not_relevant(g_n, g_r, k), 0.0).sum(1)
        # -expm1 keeps precision when the hit probability is tiny (large ties); a group that
        # always puts a relevant item inside gives log 0 = -inf, i.e. exactly 1.
        return -np.expm1(np.bincount(g_user, weights=log_none, minlength=n_users))
    if name == "mrr":
        # In the first relevant group (lo items above it, size n, r relevant) the first relevant
        # item sits at offset j with probability prod_{i<j} (1 - r / (n - i)) * r / (n - j).
        u, glo, gn, gr = (a[first_group] for a in (g_user, g_lo, g_n, g_r))
        j = np.arange(k)[None, :]
        log_not = _log_not_relevant(gn, gr, k)
        # Exclusive cumulative sum: slots 0..j-1 (a -inf stays -inf: later slots have p 0).
        log_before = np.concatenate([np.zeros((len(gn), 1)), np.cumsum(log_not, axis=1)[:, :-1]], axis=1)
        p_here = np.exp(log_before) * np.minimum(gr[:, None] / np.maximum(gn[:, None] - j, 1), 1.0)
        inside = j < np.minimum(gn, k - glo)[:, None]
        out = np.zeros(n_users)
        out[u] = np.where(inside, p_here / (glo[:, None] + j + 1), 0.0).sum(1)
        return out
    raise ConfigError("metrics", f"unknown metric {name!r}; allowed: {', '.join(METRIC_NAMES)}")
