"""EASE: embarrassingly shallow autoencoder (Steck, WWW 2019), a closed-form item-item model.

With X the binary training matrix (users x items) and G = X^T X, the weights are

    P = (G + lambda I)^-1,   B = I - P diag(1 / diag(P))   (so diag(B) = 0),

and a user's scores are X_u B. One L2 hyperparameter, lambda, chosen on validation from
`l2_grid`. The solve is dense: it is restricted to the items seen in training (an unseen item
keeps an all-zero column, so every cold item scores exactly 0 for everyone) and refused for
catalogues above `max_items`.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import torch
from torch import Tensor

from rec_core.configs.model import EASEConfig
from rec_core.errors import ConfigError
from rec_core.models.base import View
from rec_core.models.closed_form import ClosedFormRecommender

__all__ = ["EASEConfig", "EASE", "ease_weights"]


def ease_weights(gram: np.ndarray, l2: float) -> np.ndarray:
    """B = I - P diag(1/diag(P)) with P = (gram + l2 I)^-1; float64, diagonal exactly 0."""
    a = gram.copy()
    a[np.diag_indices_from(a)] += l2
    p = scipy.linalg.inv(a, overwrite_a=True, check_finite=False)
    b = p / (-np.diag(p))[None, :]  # B_ij = -P_ij / P_jj off the diagonal
    np.fill_diagonal(b, 0.0)
    return b


class EASE(ClosedFormRecommender):
    """scores(u) = X_u B with EASE's closed-form B (module docstring)."""

    name: ClassVar[str] = "ease"
    views: ClassVar[tuple[str, ...]] = ("id",)
    weights: Tensor  # (n_items, n_items) float32 item-item weights (a buffer)

    def __init__(self, n_users: int, n_items: int, config: EASEConfig = EASEConfig()) -> None:
        if n_items > config.max_items:
            raise ConfigError(
                "max_items",
                f"EASE solves a dense item x item system; this catalogue has {n_items} items, above the limit "
                f"of {config.max_items} (memory grows with the square: about 8 GB at 20,000 items). "
                "Raise max_items if the machine has the memory, or use itemknn (sparse)",
            )
        super().__init__(n_users, n_items, config)
        # (n_items, n_items) float32 weights; rows and columns of unseen items stay 0.
        self.register_buffer("weights", torch.zeros(n_items, n_items))
        self._gram: np.ndarray | None = None
        self._seen: np.ndarray | None = None

    def _fit_statistics(self, X: sp.csr_matrix) -> None:
        self._seen = np.flatnonzero(np.asarray(X.sum(axis=0)).ravel() > 0)
        xs = X[:, self._seen].astype(np.float64)
        self._gram = (xs.T @ xs).toarray()

    def _fit(self, X: sp.csr_matrix, values: dict[str, float]) -> None:
        assert self._gram is not None and self._seen is not None
        if len(self._seen) == 0:  # no training interactions: every score 0
            self.weights = torch.zeros_like(self.weights)
            return
        b = torch.from_numpy(ease_weights(self._gram, values["l2"]).astype(np.float32))
        if len(self._seen) == self.n_items:
            w = b
        else:  # scatter the seen-item block; unseen rows and columns stay 0
            w = torch.zeros(self.n_items, self.n_items, dtype=torch.float32)
            idx = torch.from_numpy(self._seen)
            w[idx.unsqueeze(1), idx.unsqueeze(0)] = b
        self.weights = w.to(self.weights.device)

    def release_statistics(self) -> None:
        super().release_statistics()
        self._gram = None

    def full_scores(self, users: Tensor) -> Tensor:
        return self._history(users) @ self.weights

    def score(self, users: Tensor, items: Tensor) -> Tensor:
        items = items.to(self.weights.device).long()
        return (self._history(users) * self.weights[:, items].T).sum(1)

    def item_embeddings(self, view: View = "id") -> Tensor:
        """Row i of B: how much having item i in a history adds to every item's score."""
        self._check_view(view)
        self._check_dense_view()
        return self.weights.detach().cpu().clone()
