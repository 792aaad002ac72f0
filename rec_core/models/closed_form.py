"""Shared base of the closed-form item-item models (EASE, ItemKNN): no gradient training.

Both learn an item-item weight matrix W from the binary training matrix X (users x items) and
score a user u by her training row: scores(u) = X_u W (ItemKNN keeps W sparse). Fitting happens
in `prepare(ctx)`; hyperparameters come as small grids in the config (fields named `<name>_grid`),
and the trainer fits every candidate and keeps the validation-best one
(`rec_core.train.closed_form.select_on_validation`). `prepare` alone fits the first candidate of
each grid, so a model is usable without a search.

The checkpoint holds the user histories (CSR over users), the fitted weights and the chosen
hyperparameter values, so a run's model.safetensors rebuilds a model that scores identically
without the dataset's interactions.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from rec_core.errors import RecCoreError
from rec_core.models.base import Batch, Recommender, TrainContext, View

__all__ = ["ClosedFormRecommender", "grid_fields", "DENSE_VIEW_MAX_ITEMS"]

# Embedding views of these models are rows of an n_items x n_items matrix (4 bytes each): above
# this catalogue size (1.6 GB) the views refuse rather than fill the memory of the app.
DENSE_VIEW_MAX_ITEMS = 20_000


def grid_fields(config: Any) -> dict[str, tuple[float, ...]]:
    """{hyperparameter: candidates} from a config's `<name>_grid` fields, in field order."""
    return {
        f.name[: -len("_grid")]: tuple(getattr(config, f.name))
        for f in dataclasses.fields(config)
        if f.name.endswith("_grid")
    }


class ClosedFormRecommender(Recommender):
    """Scores from the user's binary training row through a fitted item-item matrix."""

    name: ClassVar[str] = "closed-form"
    views: ClassVar[tuple[str, ...]] = ("id",)
    # Buffers (register_buffer in __init__), declared for the type checker.
    hist_ptr: Tensor  # (n_users + 1,) int64 CSR row pointers of the training rows
    hist_items: Tensor  # (n_train,) int64 item of each training entry
    hyper_values: Tensor  # (n_hyper,) float64 the fitted hyperparameter values

    def __init__(self, n_users: int, n_items: int, config: Any) -> None:
        super().__init__(n_users, n_items)
        self.config = config
        self._grid = grid_fields(config)
        # Training rows as CSR over users (the history a user is scored from). Their length is
        # known only after prepare(); load_checkpoint_state resizes them to the stored shape.
        self.register_buffer("hist_ptr", torch.zeros(n_users + 1, dtype=torch.long))
        self.register_buffer("hist_items", torch.zeros(0, dtype=torch.long))
        # The hyperparameter values the weights were fitted with, in `self._grid` order.
        self.register_buffer("hyper_values", torch.full((len(self._grid),), float("nan"), dtype=torch.float64))
        self._X: sp.csr_matrix | None = None  # training matrix, kept between candidate fits only
        self._fitted: dict[str, float] | None = None
        self._fit_seconds: dict[tuple[float, ...], float] = {}
        # Filled by the validation search: {"monitor", "grid": [{values, score}], "chosen", "best_score"}.
        self.selection: dict[str, Any] | None = None

    # -- fitting ------------------------------------------------------------------------------
    def hyper_grid(self) -> list[dict[str, float]]:
        """Every candidate of the config's grids (Cartesian product, first values first)."""
        names = list(self._grid)
        return [dict(zip(names, values)) for values in itertools.product(*self._grid.values())]

    def prepare(self, ctx: TrainContext) -> None:
        super().prepare(ctx)
        # Binary X: a repeated (user, item) pair counts once.
        pairs = np.unique(np.asarray(ctx.train_users, np.int64) * ctx.n_items + np.asarray(ctx.train_items, np.int64))
        users, items = pairs // ctx.n_items, pairs % ctx.n_items
        X = sp.csr_matrix((np.ones(len(pairs), np.float32), (users, items)), shape=(ctx.n_users, ctx.n_items))
        X.sort_indices()
        device = self.seen_items.device
        self.hist_ptr = torch.from_numpy(X.indptr.astype(np.int64)).to(device)
        self.hist_items = torch.from_numpy(X.indices.astype(np.int64)).to(device)
        self._X = X
        self._fitted, self._fit_seconds, self.selection = None, {}, None
        self._fit_statistics(X)
        self.fit_hyper(self.hyper_grid()[0])

    def fit_hyper(self, values: dict[str, float]) -> float:
        """Fit the weights for one candidate; returns the seconds that fit took (no refit when
        these values are fitted already)."""
        key = tuple(float(values[k]) for k in self._grid)
        if self._fitted is not None and tuple(self._fitted[k] for k in self._grid) == key:
            return self._fit_seconds.get(key, 0.0)
        if self._X is None:
            raise RecCoreError(f"{self.name}: prepare() must run before fitting hyperparameters")
        t = time.perf_counter()
        self._fit(self._X, dict(zip(self._grid, key)))
        self._fit_seconds[key] = time.perf_counter() - t
        self._fitted = dict(zip(self._grid, key))
        self.hyper_values = torch.tensor(key, dtype=torch.float64, device=self.hyper_values.device)
        return self._fit_seconds[key]

    def release_statistics(self) -> None:
        """Free what only candidate fits need (called once the search has chosen)."""
        self._X = None

    def _fit_statistics(self, X: sp.csr_matrix) -> None:
        """Precompute what every candidate shares (Gram matrix, co-occurrences)."""
        raise NotImplementedError

    def _fit(self, X: sp.csr_matrix, values: dict[str, float]) -> None:
        """Set the weight buffers for hyperparameter `values`."""
        raise NotImplementedError

    def chosen(self) -> dict[str, float]:
        """The hyperparameter values the current weights were fitted with ({} before prepare)."""
        vals = self.hyper_values.detach().cpu().tolist()
        if any(v != v for v in vals):  # NaN: not fitted
            return {}
        # Integer grids (neighbour counts) report integers, as the config holds them.
        return {k: (int(v) if isinstance(self._grid[k][0], int) else float(v)) for k, v in zip(self._grid, vals)}

    def loss(self, batch: Batch) -> dict[str, Tensor]:
        raise RuntimeError(f"{self.name} is not trained by gradient: it is fitted in closed form in prepare()")

    @property
    def trainable(self) -> bool:
        return False

    # -- scoring ------------------------------------------------------------------------------
    def _history(self, users: Tensor) -> Tensor:
        """(B, n_items) float32 binary training rows of `users` (vectorised CSR row gather)."""
        users = users.to(self.hist_ptr.device).long()
        start, end = self.hist_ptr[users], self.hist_ptr[users + 1]
        lengths = end - start
        out = torch.zeros(len(users), self.n_items, dtype=torch.float32, device=self.hist_ptr.device)
        total = int(lengths.sum())
        if total == 0:
            return out
        rows = torch.repeat_interleave(torch.arange(len(users), device=users.device), lengths)
        # Position of each gathered entry: its row's start plus its offset inside the row.
        offsets = torch.arange(total, device=users.device) - torch.repeat_interleave(
            torch.cumsum(lengths, 0) - lengths, lengths
        )
        out[rows, self.hist_items[torch.repeat_interleave(start, lengths) + offsets]] = 1.0
        return out

    # -- checkpoints --------------------------------------------------------------------------
    def load_checkpoint_state(self, state: dict[str, Tensor]) -> None:
        # The variable-length buffers (history, sparse weights) take the stored shapes first.
        for name, buf in list(self._buffers.items()):
            if buf is not None and name in state and state[name].shape != buf.shape:
                self._buffers[name] = torch.empty_like(state[name], device=buf.device)
        super().load_checkpoint_state(state)
        self._X = None
        self._fitted = self.chosen() or None

    def describe(self) -> dict[str, Any]:
        """Chosen hyperparameters and the validation search (into results' model_info)."""
        info: dict[str, Any] = {"closed_form": True, "hyper": self.chosen()}
        if self.selection is not None:
            info["selection"] = self.selection
        return info

    # -- projections --------------------------------------------------------------------------
    def _check_dense_view(self) -> None:
        if self.n_items > DENSE_VIEW_MAX_ITEMS:
            raise RecCoreError(
                f"{self.name}'s embeddings are rows of its {self.n_items} x {self.n_items} item-item matrix; "
                f"views are drawn for catalogues up to {DENSE_VIEW_MAX_ITEMS} items"
            )

    def user_embeddings(self, view: View = "id") -> Tensor:
        """A user's binary training row: these models represent a user by her history."""
        self._check_view(view)
        self._check_dense_view()
        return self._history(torch.arange(self.n_users)).cpu()
