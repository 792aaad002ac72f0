"""Popularity: every user gets the items most interacted with in training."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import Tensor

from rec_core.configs.model import PopularityConfig
from rec_core.models.base import Batch, Recommender, TrainContext, View

__all__ = ["PopularityConfig", "Popularity"]


class Popularity(Recommender):
    name: ClassVar[str] = "pop"
    views: ClassVar[tuple[str, ...]] = ("id",)
    counts: Tensor  # (n_items,) training interactions per item (a buffer)

    def __init__(self, n_users: int, n_items: int, config: PopularityConfig = PopularityConfig()) -> None:
        super().__init__(n_users, n_items)
        self.config = config
        self.register_buffer("counts", torch.zeros(n_items))

    def prepare(self, ctx: TrainContext) -> None:
        super().prepare(ctx)
        counts = np.bincount(ctx.train_items, minlength=ctx.n_items).astype(np.float32)
        self.counts.copy_(torch.from_numpy(counts))

    def loss(self, batch: Batch) -> dict[str, Tensor]:
        raise RuntimeError("Popularity is not trained by gradient; Trainer skips its epochs")

    def full_scores(self, users: Tensor) -> Tensor:
        return self.counts.unsqueeze(0).expand(len(users), -1)

    def user_embeddings(self, view: View = "id") -> Tensor:
        self._check_view(view)
        return torch.ones(self.n_users, 1)

    def item_embeddings(self, view: View = "id") -> Tensor:
        self._check_view(view)
        return self.counts.unsqueeze(1).clone()
