"""MF: matrix factorisation trained with BPR (Rendle et al., UAI 2009)."""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rec_core.configs.model import MFConfig
from rec_core.models.base import Batch, Recommender, View

__all__ = ["MFConfig", "MF", "mf_full_scores", "mf_pair_scores", "mf_l2", "mf_l2_unique", "seen_rows"]


# The MF score, shared with the text models: their score is this "MF part" plus a gated text
# part, so that a zero gate reproduces MF exactly (same operations in the same order).
def seen_rows(weight: Tensor, seen: Tensor) -> Tensor:
    """`weight` (n, d) with the rows of ids never seen in training zeroed (the neutral vector)."""
    return weight * seen.unsqueeze(1)


def mf_full_scores(users_table: Tensor, items_table: Tensor, bias: Tensor | None, users: Tensor) -> Tensor:
    """(B, n_items) MF scores of `users` from masked tables (`seen_rows`) and masked bias."""
    s = users_table[users] @ items_table.T
    return s if bias is None else s + bias


def mf_pair_scores(
    users_table: Tensor, items_table: Tensor, bias: Tensor | None, users: Tensor, items: Tensor
) -> Tensor:
    """(B,) MF scores of aligned (user, item) pairs."""
    s = (users_table[users] * items_table[items]).sum(-1)
    return s if bias is None else s + bias[items]


def mf_l2(reg_weight: float, u: Tensor, p: Tensor, n: Tensor) -> Tensor:
    """MF's L2 term on a batch's user, positive and negative embeddings (B, d) each."""
    return reg_weight * (u.pow(2).sum() + p.pow(2).sum() + n.pow(2).sum()) / len(u)


def mf_l2_unique(
    reg_weight: float, users: Tensor, user_counts: Tensor, items: Tensor, item_counts: Tensor, batch_size: int
) -> Tensor:
    """`mf_l2` from the batch's unique users and items (n, d) and how often each occurs in it
    (items: as positive or negative): the same value without gathering a row per triple."""
    sq_u = (users.pow(2).sum(1) * user_counts).sum()
    sq_i = (items.pow(2).sum(1) * item_counts).sum()
    return reg_weight * (sq_u + sq_i) / batch_size


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
        self.warm_started = False  # `load_id_weights` copied a finished MF run's weights in

    # -- warm start ("MF continued") -----------------------------------------------------------
    def load_id_weights(self, users: Tensor, items: Tensor, bias: Tensor | None) -> None:
        """Start from a finished MF run's weights (`init_from_run`; see rec_core/warm_start.py):
        the equal-budget control of a text model warm-started from the same run trains on from
        exactly where that model's MF part starts."""
        with torch.no_grad():
            self.user_emb.weight.copy_(users)
            self.item_emb.weight.copy_(items)
            if self.bias is not None:
                self.bias.copy_(bias if bias is not None else torch.zeros_like(self.bias))
        self.warm_started = True

    @property
    def validate_initial(self) -> bool:
        """Warm-started, the trainer validates the copied weights first and keeps them unless an
        epoch validates better: the same rule as a warm-started text model."""
        return self.warm_started

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
            reg = mf_l2(self.config.reg_weight, u, p, n)
            parts["reg"] = reg
            total = total + reg
        parts["total"] = total
        return parts

    def _users(self) -> Tensor:
        return seen_rows(self.user_emb.weight, self.seen_users)

    def _items(self) -> Tensor:
        return seen_rows(self.item_emb.weight, self.seen_items)

    def _bias(self) -> Tensor | None:
        return None if self.bias is None else self.bias * self.seen_items

    def full_scores(self, users: Tensor) -> Tensor:
        return mf_full_scores(self._users(), self._items(), self._bias(), users)  # (B, n_items)

    def score(self, users: Tensor, items: Tensor) -> Tensor:
        return mf_pair_scores(self._users(), self._items(), self._bias(), users, items)

    def user_embeddings(self, view: View = "id") -> Tensor:
        self._check_view(view)
        return self._users().detach()

    def item_embeddings(self, view: View = "id") -> Tensor:
        self._check_view(view)
        return self._items().detach()
