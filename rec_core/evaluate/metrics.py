"""Top-K ranking metrics as small pure functions on a hits matrix (RecBole's definitions).

Every metric takes `hits`, a bool tensor (B, K) where `hits[u, r]` is True when the item at
rank r + 1 of user u's list is relevant, plus `n_relevant` (B,) where the metric needs it,
and returns per-user values (B,) float64. Averaging over users is the caller's job: users
without relevant items are excluded upstream rather than scored 0 (PROTOCOL.md).
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from rec_core.errors import ConfigError

__all__ = [
    "METRIC_NAMES",
    "compute_metrics",
    "dcg",
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
METRIC_NAMES: tuple[str, ...] = tuple(_METRICS)


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
