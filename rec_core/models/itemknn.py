"""ItemKNN: item-based nearest neighbours with shrunk cosine similarity (sparse).

With c_ij the number of users who have both items i and j in training and n_i = sqrt(c_ii),

    sim(i, j) = c_ij / (n_i n_j + shrink)      (i != j),

every item j keeps its k most similar items N_k(j) as neighbours, and a user's score for j is
the sum of sim(i, j) over the items i in her history that are among j's neighbours. The
shrinkage pulls similarities computed from few co-occurrences toward 0 (Sarwar et al., WWW
2001; the cosine with shrink term of Dacrema et al., RecSys 2019). Both `k` and `shrink` are
chosen on validation from their grids. Everything is sparse (scipy.sparse), so large
catalogues fit as long as the co-occurrences do; an item never seen in training has no
neighbours and is no one's neighbour, so it scores exactly 0.
"""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from rec_core.configs.model import ItemKNNConfig
from rec_core.models.base import View
from rec_core.models.closed_form import ClosedFormRecommender

__all__ = ["ItemKNNConfig", "ItemKNN", "knn_weights"]


def knn_weights(
    cooc: sp.csr_matrix, norms: np.ndarray, k: int, shrink: float, order: np.ndarray | None = None
) -> sp.csr_matrix:
    """W (n_items x n_items, CSR): row j holds sim(i, j) for j's k nearest items i.

    `cooc` holds the off-diagonal co-occurrence counts with sorted column indices; `order`
    (optional) is the per-row ranking `_row_order` returned for the same shrink. Ties in
    similarity keep the lower item index.
    """
    rows = np.repeat(np.arange(cooc.shape[0]), np.diff(cooc.indptr))
    sim = _similarities(cooc, rows, norms, shrink)
    if order is None:
        order = _row_order(rows, sim)
    # Rank of each entry inside its row after sorting: its position minus the row's start.
    rank = np.arange(len(order)) - cooc.indptr[rows[order]]
    keep = order[rank < k]
    return sp.csr_matrix((sim[keep].astype(np.float32), (rows[keep], cooc.indices[keep])), shape=cooc.shape)


def _similarities(cooc: sp.csr_matrix, rows: np.ndarray, norms: np.ndarray, shrink: float) -> np.ndarray:
    return cooc.data / (norms[rows] * norms[cooc.indices] + shrink)


def _row_order(rows: np.ndarray, sim: np.ndarray) -> np.ndarray:
    # lexsort is stable: by row, then similarity descending, then the original (column) order.
    return np.lexsort((-sim, rows))


class ItemKNN(ClosedFormRecommender):
    """scores(u) = X_u W^T with the sparse neighbour weights W (module docstring)."""

    name: ClassVar[str] = "itemknn"
    views: ClassVar[tuple[str, ...]] = ("id",)
    # Buffers (register_buffer in __init__), declared for the type checker: the kept
    # neighbour weights as CSR over items.
    w_ptr: Tensor  # (n_items + 1,) int64 row pointers
    w_idx: Tensor  # (nnz,) int64 neighbour item
    w_val: Tensor  # (nnz,) float32 weight

    def __init__(self, n_users: int, n_items: int, config: ItemKNNConfig = ItemKNNConfig()) -> None:
        super().__init__(n_users, n_items, config)
        # W as CSR buffers (safetensors stores no sparse tensors): row j = item j's neighbours.
        self.register_buffer("w_ptr", torch.zeros(n_items + 1, dtype=torch.long))
        self.register_buffer("w_idx", torch.zeros(0, dtype=torch.long))
        self.register_buffer("w_val", torch.zeros(0, dtype=torch.float32))
        self._cooc: sp.csr_matrix | None = None
        self._norms: np.ndarray | None = None
        self._order: tuple[float, np.ndarray] | None = None  # (shrink, row ranking): shared by every k

    def _fit_statistics(self, X: sp.csr_matrix) -> None:
        xi = X.T.tocsr().astype(np.float64)  # items x users
        cooc = (xi @ xi.T).tocsr()  # co-occurrence counts c_ij
        self._norms = np.sqrt(cooc.diagonal())
        cooc.setdiag(0.0)  # an item is not its own neighbour
        cooc.eliminate_zeros()
        cooc.sort_indices()
        self._cooc, self._order = cooc, None

    def _fit(self, X: sp.csr_matrix, values: dict[str, float]) -> None:
        assert self._cooc is not None and self._norms is not None
        k, shrink = int(values["k"]), float(values["shrink"])
        if self._order is None or self._order[0] != shrink:
            rows = np.repeat(np.arange(self.n_items), np.diff(self._cooc.indptr))
            self._order = (shrink, _row_order(rows, _similarities(self._cooc, rows, self._norms, shrink)))
        w = knn_weights(self._cooc, self._norms, k, shrink, self._order[1])
        device = self.w_ptr.device
        self.w_ptr = torch.from_numpy(w.indptr.astype(np.int64)).to(device)
        self.w_idx = torch.from_numpy(w.indices.astype(np.int64)).to(device)
        self.w_val = torch.from_numpy(w.data.astype(np.float32)).to(device)

    def release_statistics(self) -> None:
        super().release_statistics()
        self._cooc, self._norms, self._order = None, None, None

    def _w(self) -> Tensor:
        with warnings.catch_warnings():  # torch calls its sparse CSR support "beta" at every build
            warnings.simplefilter("ignore", UserWarning)
            return torch.sparse_csr_tensor(
                self.w_ptr, self.w_idx, self.w_val, (self.n_items, self.n_items), check_invariants=False
            )

    def full_scores(self, users: Tensor) -> Tensor:
        hist = self._history(users)  # (B, n_items)
        if self.w_val.numel() == 0:
            return torch.zeros_like(hist)
        return (self._w() @ hist.T).T  # sparse (n, n) @ dense (n, B): row j = score of item j

    def item_embeddings(self, view: View = "id") -> Tensor:
        """Row j of W: item j's neighbours and their similarities (0 elsewhere)."""
        self._check_view(view)
        self._check_dense_view()
        return self._w().to_dense().cpu()
