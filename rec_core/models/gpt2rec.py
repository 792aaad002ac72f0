"""GPT2Recommender: the seed's original model.

Two towers (models/towers.py), users and items, each an ID embedding, metadata embeddings
precomputed once with a frozen backbone (pooled over tokens) and a projection of the two
concatenated:

    user = W_u [q_u ; z(meta_u)],  item = W_i [q_i ; z(meta_i)]
    score(u, i) = <e_u, e_i> + b_i  +  <user, gate * item>

The first two terms are the MF part, exactly as models/mf.py (e: the ID embedding, 0 for
unseen ids; b: item bias); the gated projection is the seed's model (q: the ID embedding with
a learned neutral vector for unseen ids). A zero gate scores exactly as MF with the same ID
weights, so the text side can add to MF but never has to subtract from it. A dropped id
(`id_dropout`) enters the projection as the neutral vector (and, with `mf_dropout`, scores 0
in the MF part too).

where z standardises each feature dimension over the entities and scales vectors to unit
norm (GPT-2 states have dimensions in the hundreds; unscaled, they would swamp the ID half of
the concatenation and saturate BPR from the first step). The statistics are those of the
entities with training interactions (`prepare`, and after a checkpoint load from its seen
masks), applied to every entity: held-out cold items do not shape them.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from rec_core.configs.model import GPT2RecConfig
from rec_core.data.interactions import InteractionData
from rec_core.errors import ConfigError
from rec_core.models.base import Batch, TrainContext, View
from rec_core.models.losses import bpr_loss
from rec_core.models.mf import mf_l2
from rec_core.models.text_features import IdEmbedding, encode_table
from rec_core.models.towers import ConcatTower, ScoringTables, TwoTowerRecommender, linear_of_concat
from rec_core.text import TextEncoder, TextEncoderConfig

__all__ = ["GPT2RecConfig", "GPT2Recommender", "PooledPart", "standardise"]


def standardise(x: Tensor, fit_rows: Tensor | None = None) -> Tensor:
    """Per-dimension z-scores, divided by sqrt(H) so a vector has unit norm on average: raw
    z-scores made the initial scores so large that BPR started saturated (loss 0.95 > ln 2).

    The mean and std are those of the rows `fit_rows` ((n,) bool: the entities with training
    interactions), applied to every row: a held-out cold item's text must not shape the
    statistics its features are scaled with. Every row when None or fewer than two."""
    fit = x if fit_rows is None or int(fit_rows.sum()) < 2 else x[fit_rows.to(x.device)]
    return (x - fit.mean(0)) / fit.std(0).clamp_min(1e-6) / x.shape[1] ** 0.5


class PooledPart(nn.Module):
    """One side of GPT2Recommender's text part as a module of its own, for the Enhanced model
    over GPT2Recommender (base "gpt2rec", models/enhanced.py): f = W [q ; z] as `ConcatTower`
    computes it, q the ID query, z the pooled text standardised with the statistics of the
    entities that have training interactions. `fusion` holds what a GPT2Recommender checkpoint's
    `<side>_tower.fusion` holds."""

    pooled: Tensor
    meta: Tensor

    def __init__(self, pooled: Tensor, d: int) -> None:
        super().__init__()
        self.register_buffer("pooled", pooled, persistent=False)  # (n, H) rebuilt from the feature cache
        self.register_buffer("meta", standardise(pooled), persistent=False)  # (n, H)
        self.fusion = nn.Linear(d + pooled.shape[1], d)

    def fit(self, seen: Tensor) -> None:
        """Standardise with the statistics of the `seen` (n,) entities, applied to all."""
        self.meta = standardise(self.pooled, seen)

    def forward(self, q: Tensor, idx: Tensor | None) -> Tensor:
        """(B, d) f = W [q ; z] for ids `idx` (B,) whose ID queries are `q` (B, d); every
        entity, in id order, when `idx` is None (no gather)."""
        return linear_of_concat(self.fusion, q, self.meta if idx is None else self.meta[idx])


class GPT2Recommender(TwoTowerRecommender[ConcatTower]):
    name: ClassVar[str] = "gpt2rec"
    needs_data: ClassVar[bool] = True
    views: ClassVar[tuple[str, ...]] = ("id", "text", "fused")
    config: GPT2RecConfig

    def __init__(
        self,
        n_users: int,
        n_items: int,
        config: GPT2RecConfig = GPT2RecConfig(),
        *,
        dataset: InteractionData,
        encoder: TextEncoder | None = None,
    ) -> None:
        super().__init__(n_users, n_items, config)
        self.config = c = config
        encoder = encoder or TextEncoder(TextEncoderConfig(c.backbone, c.max_length, c.pooling, precision=c.precision))
        self.backbone_info = {
            "backbone": encoder.backbone.name,
            "backbone_description": encoder.backbone.description,
            "backbone_identity": encoder.backbone.identity,
        }
        items, hit = encode_table(encoder, dataset.item_text, None)
        # Pooled features as encoded; `meta` is them standardised (over every entity until
        # `prepare` knows which have training interactions).
        self._pooled: dict[str, Tensor] = {"item": items.pooled}
        item_meta = standardise(items.pooled)  # (n_items, H)
        self.use_user_text = c.use_user_text and any(t.strip() for t in dataset.user_text.texts)
        self.cache_hits = {"item": hit}
        h, d = encoder.hidden_size, c.embed_dim
        # The towers' parts in the order their initialisation draws from the RNG (the user
        # projection first), so that a seed gives the same weights as in every earlier version.
        user_meta, user_proj = None, None
        if self.use_user_text:
            users, hit_u = encode_table(encoder, dataset.user_text, None)
            self._pooled["user"] = users.pooled
            user_meta = standardise(users.pooled)  # (n_users, H)
            self.cache_hits["user"] = hit_u
            user_proj = nn.Linear(d + h, d)
        # The backbone is only needed to precompute: not kept (nothing in it trains).
        user_id = IdEmbedding(n_users, d, c.init_std, c.id_dropout)
        item_id = IdEmbedding(n_items, d, c.init_std, c.id_dropout)
        item_proj = nn.Linear(d + h, d)
        self.user_tower = ConcatTower(user_id, user_meta, user_proj)
        self.item_tower = ConcatTower(item_id, item_meta, item_proj)

    def prepare(self, ctx: TrainContext) -> None:
        super().prepare(ctx)
        self._standardise_text()

    def load_checkpoint_state(self, state: dict[str, Tensor]) -> None:
        super().load_checkpoint_state(state)
        self._standardise_text()  # from the checkpoint's seen masks, as when it was trained

    def _standardise_text(self) -> None:
        """Each side's `meta` standardised with the statistics of its ids seen in training."""
        for side, seen in (("user", self.seen_users), ("item", self.seen_items)):
            tower = self.user_tower if side == "user" else self.item_tower
            if side in self._pooled and tower.meta is not None:
                tower.meta = standardise(self._pooled[side], seen.cpu()).to(tower.meta.device)

    def loss(self, batch: Batch) -> dict[str, Tensor]:
        users_t, items_t = self.user_tower, self.item_tower
        keep = {
            "u": users_t.keep(batch.users, self.seen_users),
            "p": items_t.keep(batch.pos_items, self.seen_items),
            "n": items_t.keep(batch.neg_items, self.seen_items),
        }
        # MF part: unseen ids (and, with `mf_dropout`, dropped ones) score with zero vectors.
        mf_keep = (
            keep
            if self.config.mf_dropout
            else {
                "u": self.seen_users[batch.users],
                "p": self.seen_items[batch.pos_items],
                "n": self.seen_items[batch.neg_items],
            }
        )
        eu = users_t.ids.raw(batch.users) * mf_keep["u"].unsqueeze(1)  # (B, d)
        ep = items_t.ids.raw(batch.pos_items) * mf_keep["p"].unsqueeze(1)
        en = items_t.ids.raw(batch.neg_items) * mf_keep["n"].unsqueeze(1)
        u = users_t.fused(batch.users, self.seen_users, keep["u"])  # (B, d)
        pos = (eu * ep).sum(-1) + (u * self.gate * items_t.fused(batch.pos_items, self.seen_items, keep["p"])).sum(-1)
        neg = (eu * en).sum(-1) + (u * self.gate * items_t.fused(batch.neg_items, self.seen_items, keep["n"])).sum(-1)
        if self.bias is not None:
            pos = pos + self.bias[batch.pos_items] * mf_keep["p"]
            neg = neg + self.bias[batch.neg_items] * mf_keep["n"]
        bpr = bpr_loss(pos, neg)
        parts = {"bpr": bpr}
        total = bpr
        if self.config.reg_weight > 0:
            parts["reg"] = mf_l2(self.config.reg_weight, eu, ep, en)
            total = total + parts["reg"]
        parts["total"] = total
        return parts

    def _tables(self) -> ScoringTables:
        """Scoring vectors of every user and item: once per scoring pass, else on every call."""
        return self.scoring_table("tables", self._scoring_tables)

    def _scoring_tables(self) -> ScoringTables:
        t = self._build_tables()
        with torch.no_grad():
            t["text_items"] = t["text_items"] * self.gate
        return t

    def _build_tables(self) -> ScoringTables:
        """The scoring tables with `text_items` the items' fused vectors, before the gate."""
        with torch.no_grad():
            dev = self.seen_items.device
            return {
                "users": self.user_tower.mf_rows(self.seen_users),
                "items": self.item_tower.mf_rows(self.seen_items),
                "bias": None if self.bias is None else self.bias * self.seen_items,
                "text_users": self.user_tower.fused(torch.arange(self.n_users, device=dev), self.seen_users),
                "text_items": self.item_tower.fused(torch.arange(self.n_items, device=dev), self.seen_items),
            }

    def user_embeddings(self, view: View = "fused") -> Tensor:
        """`id`: the MF part's embeddings (0 for unseen ids); `text`: standardised metadata
        features; `fused`: the seed's projected vectors W[q ; z], the text part of the score
        (score = <id_u, id_i> + b_i + <fused_u, gate * fused_i>)."""
        self._check_view(view)
        if view == "text":
            if self.user_tower.meta is None:
                raise ConfigError("view", "this model has no user text")
            return self.user_tower.meta.detach().cpu()
        t = self._eval_tables()
        return t["users"] if view == "id" else t["text_users"]

    def item_embeddings(self, view: View = "fused") -> Tensor:
        """As `user_embeddings` (the fused view without the gate)."""
        self._check_view(view)
        if view == "text":
            assert self.item_tower.meta is not None  # items always have text
            return self.item_tower.meta.detach().cpu()
        t = self._eval_tables()
        return t["items"] if view == "id" else t["text_items"]

    def _eval_tables(self) -> dict[str, Tensor]:
        """`_build_tables` in eval mode, on the CPU (tables that exist only)."""
        was = self.training
        self.eval()
        try:
            return {k: v.detach().cpu() for k, v in self._build_tables().items() if isinstance(v, Tensor)}
        finally:
            self.train(was)

    def describe(self) -> dict[str, object]:
        return {**self.backbone_info, "text_cache_hits": self.cache_hits, "use_user_text": self.use_user_text}
