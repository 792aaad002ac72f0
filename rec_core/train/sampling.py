"""Negative sampling for BPR: uniform over the items seen in training, never one of the user's
training items.

Items without a training interaction (a `cold-items` split's held-out items, or on a `ratio`
split the few whose every interaction went to valid/test) are never drawn: drawing them would
let held-out items shape training (a text model would learn to push their texts down before
they are evaluated). When every item has a training interaction the draws are exactly those of
a uniform draw over all items.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["NegativeSampler"]


class NegativeSampler:
    """Samples, for each (user, positive) pair, an item seen in train that the user has not
    interacted with in train.

    Rejection sampling, vectorised: draw uniformly, look the (user, item) pairs up, redraw only
    the collisions. With densities of a few percent this converges in two or three rounds; a
    final exhaustive fallback covers users who saw almost everything. The lookup is a dense
    user x item bit table when that is small (ML-1M: 22 MB), else a binary search over sorted
    keys (a few times slower: it was a third of an MF epoch on ML-100K).
    """

    DENSE_LIMIT = 64_000_000  # user x item cells above which the sorted-key search is used

    def __init__(self, train_users: np.ndarray, train_items: np.ndarray, n_items: int) -> None:
        self.n_items = n_items
        users = train_users.astype(np.int64)
        items = train_items.astype(np.int64)
        # The items negatives are drawn from; None: every item (all have training interactions).
        pool = np.unique(items)
        self.pool: Tensor | None = torch.from_numpy(pool) if 0 < len(pool) < n_items else None
        n_users = int(users.max()) + 1 if len(users) else 1
        self._dense: Tensor | None = None
        self._keys: Tensor | None = None
        if n_users * n_items <= self.DENSE_LIMIT:
            table = np.zeros(n_users * n_items, dtype=bool)
            table[users * n_items + items] = True
            self._dense = torch.from_numpy(table)
            self._n_cells = n_users * n_items
        else:
            self._keys = torch.from_numpy(np.unique(users * n_items + items))  # sorted

    def _is_positive(self, users: Tensor, items: Tensor) -> Tensor:
        keys = users * self.n_items + items
        if self._dense is not None:
            inside = keys < self._n_cells  # users past the table's last row have no positives
            return self._dense[keys.clamp(max=self._n_cells - 1)] & inside
        assert self._keys is not None
        pos = torch.searchsorted(self._keys, keys).clamp_(max=len(self._keys) - 1)
        return self._keys[pos] == keys

    def _draw(self, n: int, generator: torch.Generator) -> Tensor:
        """`n` items drawn uniformly from the pool."""
        if self.pool is None:
            return torch.randint(0, self.n_items, (n,), generator=generator)
        return self.pool[torch.randint(0, len(self.pool), (n,), generator=generator)]

    def sample(self, users: Tensor, generator: torch.Generator) -> Tensor:
        """One negative item per entry of `users` (int64, (N,)) -> (N,) int64."""
        neg = self._draw(len(users), generator)
        bad = self._is_positive(users, neg)
        for _ in range(20):
            n_bad = int(bad.sum())
            if n_bad == 0:
                return neg
            idx = bad.nonzero().squeeze(1)
            neg[idx] = self._draw(n_bad, generator)
            bad[idx] = self._is_positive(users[idx], neg[idx])
        # Users who interacted with nearly every item: pick explicitly among their non-positives.
        for i in bad.nonzero().squeeze(1).tolist():
            u = int(users[i])
            all_items = torch.arange(self.n_items) if self.pool is None else self.pool
            free = all_items[~self._is_positive(torch.full_like(all_items, u), all_items)]
            if len(free) == 0:
                raise ValueError(f"user {u} interacted with every item; no negative exists")
            neg[i] = free[torch.randint(0, len(free), (1,), generator=generator)]
        return neg
