"""GPT2Recommender: the seed's original model.

Metadata embeddings are precomputed once with a frozen backbone (pooled over tokens),
concatenated with the ID embedding and projected:

    user = W_u [e_u ; z(meta_u)],  item = W_i [e_i ; z(meta_i)],  score = <user, item>

where z standardises each feature dimension over the entities and scales vectors to unit
norm (GPT-2 states have dimensions in the hundreds; unscaled, they would swamp the ID half of
the concatenation and saturate BPR from the first step).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
from torch import Tensor, nn

from rec_core.data.interactions import InteractionData
from rec_core.errors import ConfigError
from rec_core.models.base import Batch, Recommender, View
from rec_core.models.losses import bpr_loss
from rec_core.models.text_features import IdEmbedding, encode_table
from rec_core.text import TextEncoder, TextEncoderConfig

__all__ = ["GPT2RecConfig", "GPT2Recommender"]

Side = Literal["user", "item"]


@dataclass(frozen=True)
class GPT2RecConfig:
    name: str = "gpt2rec"  # model kind, used by the registry and the run record
    embed_dim: int = 64  # size of the ID embeddings and of the projected user/item vectors
    backbone: str = "minilm"  # text backbone: minilm, tiny-gpt2, gpt2, distilgpt2 or a directory
    max_length: int = 64  # tokens per text, special tokens included
    pooling: str = "auto"  # auto | last | mean
    id_dropout: float = 0.1  # share of batch ids replaced by the neutral ID embedding (cold start)
    init_std: float = 0.1  # std of the ID embeddings' normal init
    use_user_text: bool = True  # concatenate user profile embeddings too (off: users ID-only)

    def __post_init__(self) -> None:
        for name in ("embed_dim", "max_length"):
            if getattr(self, name) <= 0:
                raise ConfigError(name, f"must be > 0, got {getattr(self, name)}")
        if not 0 <= self.id_dropout < 1:
            raise ConfigError("id_dropout", f"must be in [0, 1), got {self.id_dropout}")
        if self.init_std <= 0:
            raise ConfigError("init_std", f"must be > 0, got {self.init_std}")
        if self.pooling not in ("auto", "last", "mean"):
            raise ConfigError("pooling", f"allowed: auto, last, mean; got {self.pooling!r}")


def _standardise(x: Tensor) -> Tensor:
    """Per-dimension z-scores, divided by sqrt(H) so a vector has unit norm on average: raw
    z-scores made the initial scores so large that BPR started saturated (loss 0.95 > ln 2)."""
    return (x - x.mean(0)) / x.std(0).clamp_min(1e-6) / x.shape[1] ** 0.5


class GPT2Recommender(Recommender):
    name: ClassVar[str] = "gpt2rec"
    needs_data: ClassVar[bool] = True
    views: ClassVar[tuple[str, ...]] = ("id", "text", "fused")

    def __init__(self, n_users: int, n_items: int, config: GPT2RecConfig = GPT2RecConfig(), *,
                 dataset: InteractionData, encoder: TextEncoder | None = None) -> None:
        super().__init__(n_users, n_items)
        self.config = c = config
        encoder = encoder or TextEncoder(TextEncoderConfig(c.backbone, c.max_length, c.pooling))
        self.backbone_info = {"backbone": encoder.backbone.name,
                              "backbone_description": encoder.backbone.description,
                              "backbone_identity": encoder.backbone.identity}
        items, hit = encode_table(encoder, dataset.item_text, None)
        self.register_buffer("item_meta", _standardise(items.pooled), persistent=False)
        self.use_user_text = c.use_user_text and any(t.strip() for t in dataset.user_text.texts)
        self.cache_hits = {"item": hit}
        h = encoder.hidden_size
        if self.use_user_text:
            users, hit_u = encode_table(encoder, dataset.user_text, None)
            self.register_buffer("user_meta", _standardise(users.pooled), persistent=False)
            self.cache_hits["user"] = hit_u
            self.user_proj = nn.Linear(c.embed_dim + h, c.embed_dim)
        # The backbone is only needed to precompute: not kept (nothing in it trains).
        d = c.embed_dim
        self.user_id = IdEmbedding(n_users, d, c.init_std, c.id_dropout)
        self.item_id = IdEmbedding(n_items, d, c.init_std, c.id_dropout)
        self.item_proj = nn.Linear(d + h, d)
        self._memo: tuple[object, Tensor, Tensor] | None = None

    def _vec(self, side: Side, idx: Tensor) -> Tensor:
        if side == "item":
            e = self.item_id(idx, self.seen_items)
            return self.item_proj(torch.cat([e, self.item_meta[idx]], dim=-1))
        e = self.user_id(idx, self.seen_users)
        if not self.use_user_text:
            return e
        return self.user_proj(torch.cat([e, self.user_meta[idx]], dim=-1))

    def loss(self, batch: Batch) -> dict[str, Tensor]:
        u = self._vec("user", batch.users)
        bpr = bpr_loss((u * self._vec("item", batch.pos_items)).sum(-1),
                       (u * self._vec("item", batch.neg_items)).sum(-1))
        return {"bpr": bpr, "total": bpr}

    def _tables(self) -> tuple[Tensor, Tensor]:
        stamp = (self.training, tuple(p._version for p in self.parameters()),
                 self.seen_items._version, self.seen_users._version)
        if self._memo is None or self._memo[0] != stamp:
            with torch.no_grad():
                dev = self.seen_items.device
                self._memo = (stamp, self._vec("user", torch.arange(self.n_users, device=dev)),
                              self._vec("item", torch.arange(self.n_items, device=dev)))
        return self._memo[1], self._memo[2]

    def full_scores(self, users: Tensor) -> Tensor:
        u, i = self._tables()
        return u[users] @ i.T

    def user_embeddings(self, view: View = "fused") -> Tensor:
        self._check_view(view)
        if view == "id":
            return self.user_id.table.weight.detach().cpu()
        if view == "text":
            if not self.use_user_text:
                raise ConfigError("view", "this model has no user text")
            return self.user_meta.detach().cpu()
        return self._eval_tables()[0]

    def item_embeddings(self, view: View = "fused") -> Tensor:
        self._check_view(view)
        if view == "id":
            return self.item_id.table.weight.detach().cpu()
        if view == "text":
            return self.item_meta.detach().cpu()
        return self._eval_tables()[1]

    def _eval_tables(self) -> tuple[Tensor, Tensor]:
        was = self.training
        self.eval()
        try:
            u, i = self._tables()
            return u.detach().cpu(), i.detach().cpu()
        finally:
            self.train(was)

    def describe(self) -> dict[str, object]:
        return {**self.backbone_info, "text_cache_hits": self.cache_hits, "use_user_text": self.use_user_text}
