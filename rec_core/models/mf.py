"""MF: matrix factorisation trained with BPR (Rendle et al., UAI 2009)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rec_core.errors import ConfigError
from rec_core.models.base import Batch, Recommender, View

__all__ = ["MFConfig", "MF"]


@dataclass(frozen=True)
class MFConfig:
    name: str = "mf"  # model kind, used by the registry and the run record
    embed_dim: int = 64  # size of user and item embeddings (RecBole's BPR uses 64)
    init_std: float = 0.1  # std of the normal init; xavier-like scale for dim 64
    reg_weight: float = 5e-3  # L2 on the batch's embeddings, added to the loss (chosen on ML-100K valid)
    item_bias: bool = True  # add a learned per-item bias to every score (popularity prior)

    def __post_init__(self) -> None:
        if self.embed_dim <= 0:
            raise ConfigError("embed_dim", f"must be > 0, got {self.embed_dim}")
        if self.init_std <= 0:
            raise ConfigError("init_std", f"must be > 0, got {self.init_std}")
        if self.reg_weight < 0:
            raise ConfigError("reg_weight", f"must be >= 0, got {self.reg_weight}")


class MF(Recommender):
    """Dot product of user and item embeddings.

    Ids never seen in training keep no random vector: at scoring time they use a zero
    ("neutral") embedding, so an unseen item scores 0 for everyone instead of noise.
    """

    name: ClassVar[str] = "mf"
    views: ClassVar[tuple[str, ...]] = ("id",)

    def __init__(self, n_users: int, n_items: int, config: MFConfig = MFConfig()) -> None:
        super().__init__(n_users, n_items)
        self.config = config
        self.user_emb = nn.Embedding(n_users, config.embed_dim)
        self.item_emb = nn.Embedding(n_items, config.embed_dim)
        nn.init.normal_(self.user_emb.weight, std=config.init_std)
        nn.init.normal_(self.item_emb.weight, std=config.init_std)
        # Zero-initialised; unseen items keep bias 0 (masked like their embeddings).
        self.bias = nn.Parameter(torch.zeros(n_items)) if config.item_bias else None

    def loss(self, batch: Batch) -> dict[str, Tensor]:
        u = self.user_emb(batch.users)  # (B, d)
        p = self.item_emb(batch.pos_items)
        n = self.item_emb(batch.neg_items)
        diff = (u * p).sum(-1) - (u * n).sum(-1)
        if self.bias is not None:
            diff = diff + self.bias[batch.pos_items] - self.bias[batch.neg_items]
        bpr = -F.logsigmoid(diff).mean()
        parts = {"bpr": bpr}
        total = bpr
        if self.config.reg_weight > 0:
            reg = self.config.reg_weight * (u.pow(2).sum() + p.pow(2).sum() + n.pow(2).sum()) / len(u)
            parts["reg"] = reg
            total = total + reg
        parts["total"] = total
        return parts

    def _users(self) -> Tensor:
        return self.user_emb.weight * self.seen_users.unsqueeze(1)

    def _items(self) -> Tensor:
        return self.item_emb.weight * self.seen_items.unsqueeze(1)

    def _bias(self) -> Tensor | None:
        return None if self.bias is None else self.bias * self.seen_items

    def full_scores(self, users: Tensor) -> Tensor:
        s = self._users()[users] @ self._items().T  # (B, n_items)
        b = self._bias()
        return s if b is None else s + b

    def score(self, users: Tensor, items: Tensor) -> Tensor:
        s = (self._users()[users] * self._items()[items]).sum(-1)
        b = self._bias()
        return s if b is None else s + b[items]

    def user_embeddings(self, view: View = "id") -> Tensor:
        self._check_view(view)
        return self._users().detach()

    def item_embeddings(self, view: View = "id") -> Tensor:
        self._check_view(view)
        return self._items().detach()
