"""GPT2RecommenderEnhanced: the seed design's improved model (seed-design.zh.md), in one file.

Two towers, users and items. Per entity (B of them; d = `embed_dim`, T tokens, r = `text_rank`,
H the backbone's hidden size, `heads` attention heads of hd = d / heads):

    e     = ID embedding: the row of a training id, 0 for unseen / dropped ids          (B, d)
    q     = ID query: e, or a learned neutral vector for unseen / dropped ids             (B, d)
    S, m  = the text's token states, layer-normalised and reduced by a fixed PCA to r
            dims, and their mask: cached, or dynamic (below)                   (B, T, r), (B, T)
    t     = text_proj(pooled backbone states): the text view                             (B, d)
    f     = LayerNorm([q +] CrossAttention(Q from q; K, V from S))     use_attention=True  (B, d)
          = LayerNorm([q +] t)                                         use_attention=False
    score(u, i) = <e_u, e_i> + b_i                  the MF part, exactly as models/mf.py
                + <f_u, gate * f_i> / sqrt(d)       the gated text part (gate: (d,), learned)
    loss  = BPR(scores) + L2 on the batch's ID rows + contrastive_weight * InfoNCE(e, t)
            [+ text_to_id_weight * ||A t - e||^2 on seen items, with `text_to_id`]

[q +] is the seed's residual (`text_residual`), off by default: the ID enters the score through
the MF part, and a LayerNorm-scaled second copy escaped the MF part's L2 and overfitted. The ID
path never passes through a LayerNorm: with gate 0 the model scores exactly as MF with the same
ID weights. A dropped id (`id_dropout`, training only) queries the text part with the neutral
vector, as an unseen id does, so the text part learns to score cold items.

Token states come from the frozen feature cache (`use_cache=True`, rec_core/text) or, in dynamic
mode, from re-running the top `dynamic_layers` backbone blocks with gradients (LoRA adapters or
the blocks' own weights: models/lora.py) on cached inputs. `base="gpt2rec"` adds the attention
part to GPT2Recommender's whole score (`PooledPart`); `text_to_id` gives unseen items an MF row
mapped from their text view; `content_keys` keeps attention keys on field values. Speed-ups that
change no number are in models/fast_paths.py; run-facing methods in models/enhanced_run.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

import torch
from torch import Tensor, nn

from rec_core.configs import PRESETS
from rec_core.configs.model import EnhancedConfig
from rec_core.data.interactions import InteractionData, TextTable
from rec_core.models import fast_paths
from rec_core.models.base import Batch, TrainContext
from rec_core.models.enhanced_run import EnhancedRunMixin
from rec_core.models.fast_paths import FrozenTextView, uniform_dropout
from rec_core.models.gpt2rec import PooledPart
from rec_core.models.lora import check_dynamic_layers, freeze_all, wire_backbone
from rec_core.models.losses import bpr_loss, info_nce
from rec_core.models.mf import mf_l2_unique
from rec_core.models.text_features import IdEmbedding, TextSide, text_side
from rec_core.models.towers import Encoded, ScoringTables, Side, Tower, TwoTowerRecommender
from rec_core.text import TextEncoder, TextEncoderConfig

# Named views of a batch of entities (`represent`): query, text, fusion (B, d); attention (B, heads, T).
Views = dict[str, Tensor]
__all__ = ["AttentionTower", "CrossAttention", "EnhancedConfig", "GPT2RecommenderEnhanced", "PRESETS", "PooledPart"]


class CrossAttention(nn.Module):
    """Multi-head cross-attention of the ID query over the token states, then LayerNorm. Head h
    uses its own hd rows of each projection (nn.Linear: x W^T + b):

        Q_h = q W_q,h + b_q,h                                       (B, hd)
        K_h = S W_k,h    (no bias: it adds one logit to every token) (B, T, hd)
        V_h = S W_v,h + b_v,h                                       (B, T, hd)
        A_h = softmax(Q_h K_h^T / sqrt(hd), -inf on masked tokens)   (B, T)
        f   = LayerNorm([q +] dropout(concat_h(A_h V_h) W_o + b_o))   (B, d)

    The weights A are computed explicitly (no fused kernel): the app draws them.
    """

    def __init__(self, d: int, r: int, heads: int, dropout: float = 0.0, residual: bool = True) -> None:
        super().__init__()
        if d % heads:
            raise ValueError("embed_dim must be divisible by n_heads")
        self.d, self.r, self.heads, self.hd = d, r, heads, d // heads
        self.residual = residual  # f = LayerNorm(q + attention); False: LayerNorm(attention)
        self.p = dropout
        self.W_q = nn.Linear(d, d)
        self.W_k = nn.Linear(r, d, bias=False)
        self.W_v = nn.Linear(r, d)
        self.W_o = nn.Linear(d, d)
        self.norm = nn.LayerNorm(d)

    @property
    def folded(self) -> bool:
        """Whether W_q,h W_k,h^T and W_v,h W_o,h run as one (d, heads * r) matrix each (fast_paths):
        fewer multiply-adds per entity, d * heads * r against d * d + d * r."""
        return self.heads * self.r <= self.d + self.r

    def query_keys(self, q: Tensor) -> Tensor:
        """(B, heads, r) Q_h W_k,h^T / sqrt(hd): each head's query in token-state space.

        Associativity: Q_h K_h^T = (q W_q,h)(S W_k,h)^T = ((q W_q,h) W_k,h^T) S^T, so the query
        is mapped once per entity instead of projecting each of its T tokens to d dims
        (2.3 s against 8 s per ML-100K epoch); a logit is then one dot product with a state.
        """
        if self.folded:
            return fast_paths.folded_query_keys(self, q)
        w_k = self.W_k.weight.view(self.heads, self.hd, self.r)  # W_k,h^T of each head (hd, r)
        Q = self.W_q(q) * (1.0 / math.sqrt(self.hd))  # (B, d): the heads' Q_h / sqrt(hd) side by side
        # Head-major copies: a product over the strided (heads, B, .) view ran at half speed.
        return torch.bmm(Q.view(-1, self.heads, self.hd).transpose(0, 1).contiguous(), w_k).transpose(0, 1)

    def weights(self, q: Tensor, states: Tensor, mask: Tensor) -> Tensor:
        """A (B, heads, T), rows summing to 1 over keys; q (B, d), S (B, T, r), mask (B, T) bool.
        States arrive normalised (TextSide.reduce): a trainable LayerNorm over every token of
        every entity was most of an epoch's time, for no measurable gain."""
        masked = torch.zeros(mask.shape, dtype=states.dtype, device=states.device)
        masked = masked.masked_fill_(~mask, float("-inf")).unsqueeze(1)  # (B, 1, T)
        return torch.softmax(torch.baddbmm(masked, self.query_keys(q), states.transpose(1, 2)), dim=-1)

    def output(self, q: Tensor, ctx: Tensor) -> Tensor:
        """f (B, d) from ctx = A S (B, heads, r), each head's weighted token states. Associativity
        again: A_h V_h = (A_h S) W_v,h + b_v,h (rows of A sum to 1, so the bias passes through),
        the value map running on one r-vector per head, not on T tokens."""
        if self.folded:
            out = fast_paths.folded_output(self, ctx)
        else:
            w_v = self.W_v.weight.view(self.heads, self.hd, self.r).transpose(1, 2)  # W_v,h (r, hd)
            av = torch.bmm(ctx.transpose(0, 1).contiguous(), w_v).transpose(0, 1).reshape(len(q), self.d)
            out = self.W_o(av + self.W_v.bias)  # concat_h(A_h V_h) W_o + b_o
        out = uniform_dropout(out, self.p, self.training)
        return self.norm(q + out if self.residual else out)

    def forward(self, q: Tensor, states: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """f (B, d) and A (B, heads, T). Dropout acts on the output, not on the weights:
        drawing a mask over every token of every entity was a sixth of a cached epoch."""
        attn = self.weights(q, states, mask)
        return self.output(q, torch.bmm(attn, states)), attn


class AttentionTower(Tower):
    """One side (users or items). For ids `idx` (B,):

        q       = ids(idx)            (B, d)     own row, or the neutral vector (unseen / dropped)
        S, m, p = text                (B, T, r), (B, T), (B, H): reduced states, key mask, pooled
        t       = text_proj(p)        (B, d)     the text view (InfoNCE, the `text` view)
        f       = fusion(q, S, m)     (B, d)     CrossAttention; without attention LayerNorm([q +] t)

    `text` is None for ID-only users (f = q); `text_proj` and `fusion` exist all the same,
    unused (built to keep the seeded initialisation and the checkpoint layout of every config).
    """

    def __init__(
        self, ids: IdEmbedding, text: TextSide | None, text_proj: nn.Module, fusion: nn.Module, c: EnhancedConfig
    ):
        super().__init__(ids)
        self.text, self.text_proj, self.fusion = text, text_proj, fusion
        self.text_residual = c.text_residual  # without attention: f = LayerNorm(q + t)
        self.query_grad = c.query_grad  # False: the text part's gradient stops at the ID rows
        self._frozen_view = FrozenTextView()

    @property
    def use_attention(self) -> bool:
        return isinstance(self.fusion, CrossAttention)

    def encode(self, idx: Tensor, encoder: TextEncoder | None) -> Encoded:
        """(S (B, T, r), m (B, T), pooled (B, H)) of `idx`: from the frozen cache, or with
        `encoder` re-running its top blocks (dynamic mode, gradients if enabled)."""
        if self.text is None:
            raise RuntimeError("this tower has no text (ID-only users)")
        return self.text.cached(idx) if encoder is None else fast_paths.encode_in_buckets(self.text, encoder, idx)

    def represent(
        self, idx: Tensor, seen: Tensor, keep: Tensor | None, *, encode: Callable[[Tensor], Encoded], need_text: bool
    ) -> Views:
        """Views of `idx` (B,): `query` q, `text` t (with `need_text`, or without attention),
        `fusion` f (B, d) and, with attention, `attention` A (B, heads, T). `keep` (B,) bool:
        which ids use their own row (None: seen ones, minus the ID dropout while training);
        `encode(idx)` gives the text features (`encode` above, cached or dynamic)."""
        keep = self.keep(idx, seen) if keep is None else keep
        q = self.ids(idx, seen, keep, detach_rows=not self.query_grad)
        if self.text is None:  # ID-only users
            return {"query": q, "fusion": q}
        out = {"query": q}
        states, mask, pooled = encode(idx)
        if need_text or not self.use_attention:
            out["text"] = self.text_proj(pooled)
        if isinstance(self.fusion, CrossAttention):
            out["fusion"], out["attention"] = self.fusion(q, states, mask)
        else:
            out["fusion"] = self.fusion(q + out["text"] if self.text_residual else out["text"])
        return out

    def project_cached(self, rows: Tensor | None = None) -> Tensor:
        """(B, d) the text view t of `rows` (every entity when None) from the frozen features."""
        assert self.text is not None
        return self._frozen_view(self.text_proj, self.text.pooled, rows)


@dataclass
class _Step:
    """A training step's vectors: of every entity (`every`), or of the batch's unique ids."""

    every: bool
    users: Tensor  # (U,) the batch's users, unique and sorted
    items: Tensor  # (I,) the batch's items (positive or negative), unique and sorted
    counts: tuple[Tensor, Tensor]  # how often each row of e_u, e_i occurs in the batch
    rows: tuple[Tensor, Tensor]  # (b,) row of each triple's user; (2b,) of its positive then negative item
    keep: tuple[Tensor, Tensor]  # which rows use their own ID row in the text part (not dropped)
    e: tuple[Tensor, Tensor]  # ID table rows, (n_users or U, d) and (n_items or I, d)
    f: tuple[Tensor, Tensor]  # text-part vectors f of the same rows
    views: dict[str, Views]  # `represent`'s views (gathered steps only)


class GPT2RecommenderEnhanced(EnhancedRunMixin, TwoTowerRecommender[AttentionTower]):
    name: ClassVar[str] = "enhanced"
    needs_data: ClassVar[bool] = True
    views: ClassVar[tuple[str, ...]] = ("id", "text", "fused")
    config: EnhancedConfig

    def __init__(
        self,
        n_users: int,
        n_items: int,
        config: EnhancedConfig = EnhancedConfig(),
        *,
        dataset: InteractionData,
        encoder: TextEncoder | None = None,
    ) -> None:
        super().__init__(n_users, n_items, config)
        self.config = c = config
        self.user_table: TextTable = dataset.user_text
        self.item_table: TextTable = dataset.item_text
        self.use_user_text = c.use_user_text and any(t.strip() for t in dataset.user_text.texts)
        text_config = TextEncoderConfig(c.backbone, c.max_length, c.pooling, precision=c.precision)
        self.encoder = encoder or TextEncoder(text_config)
        check_dynamic_layers(self.encoder, c)
        freeze_all(self.encoder)
        # Encoded (or read from the cache) before adapters exist: every run shares the cache key.
        item_text, hit_i = text_side(self.encoder, self.item_table, c)
        user_text, hit_u = text_side(self.encoder, self.user_table, c) if self.use_user_text else (None, False)
        self.cache_hits = {"item": hit_i, **({"user": hit_u} if user_text is not None else {})}
        # LoRA adapters or unfrozen top blocks (models/lora.py): what trains in dynamic mode.
        self.backbone_trainable_params = wire_backbone(self.encoder, c)
        self._build_towers(user_text, item_text)
        # Fused vectors are LayerNorm outputs (unit variance per dimension): unscaled, their dot
        # products start around +-sqrt(d) and BPR saturates; 1/sqrt(d) as in scaled attention.
        self._scale = 1.0 / c.embed_dim**0.5
        self.use_cache = c.use_cache  # the seed's switch: flip between fit() calls (scheme 3)
        # Base "gpt2rec": GPT2Recommender's text part, built after the parts above (same init as "mf").
        self.user_pooled: PooledPart | None = None
        self.item_pooled: PooledPart | None = None
        if c.base == "gpt2rec":
            self.item_pooled = PooledPart(item_text.pooled, c.embed_dim)
            self.user_pooled = PooledPart(user_text.pooled, c.embed_dim) if user_text is not None else None
            self.base_gate = nn.Parameter(torch.full((c.embed_dim,), float(c.base_gate_init)))
        # The text-to-ID map A, last and zero-initialised (no RNG draw): every text maps to 0 at first.
        self.text_to_id = nn.utils.skip_init(nn.Linear, c.embed_dim, c.embed_dim) if c.text_to_id else None
        if self.text_to_id is not None:
            nn.init.zeros_(self.text_to_id.weight)
            nn.init.zeros_(self.text_to_id.bias)

    def _build_towers(self, user_text: TextSide | None, item_text: TextSide) -> None:
        """The towers' parts in the order their initialisation draws from the RNG (items before
        users from the projections on): a seed gives the same weights as every earlier version."""
        c = self.config
        h, d = self.encoder.hidden_size, c.embed_dim
        user_id = IdEmbedding(self.n_users, d, c.init_std, c.id_dropout)
        item_id = IdEmbedding(self.n_items, d, c.init_std, c.id_dropout)
        item_proj = nn.Sequential(nn.LayerNorm(h), nn.Linear(h, d), nn.GELU(), nn.Linear(d, d))
        user_proj = nn.Sequential(nn.LayerNorm(h), nn.Linear(h, d), nn.GELU(), nn.Linear(d, d))
        r_i = item_text.rank
        r_u = user_text.rank if user_text is not None else r_i
        item_fusion: CrossAttention | nn.LayerNorm = nn.LayerNorm(d)
        user_fusion: CrossAttention | nn.LayerNorm = nn.LayerNorm(d)
        if c.use_attention:
            item_fusion = CrossAttention(d, r_i, c.n_heads, c.dropout, c.text_residual)
            user_fusion = CrossAttention(d, r_u, c.n_heads, c.dropout, c.text_residual)
        self.user_tower = AttentionTower(user_id, user_text, user_proj, user_fusion, c)
        self.item_tower = AttentionTower(item_id, item_text, item_proj, item_fusion, c)

    # -- text ---------------------------------------------------------------------------------
    @property
    def dynamic(self) -> bool:
        return not self.use_cache and self.config.trainable_backbone

    def encode_text_train(self, side: Side, idx: Tensor) -> Encoded:
        """(S (B, T, r), m (B, T), pooled (B, H)) of `idx`; in dynamic mode with gradients."""
        return self.tower(side).encode(idx, self.encoder if self.dynamic else None)

    @torch.no_grad()
    def encode_text(self, side: Side, idx: Tensor) -> Encoded:
        """Inference path of `encode_text_train`: no gradients."""
        return self.tower(side).encode(idx, self.encoder if self.dynamic else None)

    def represent(self, side: Side, idx: Tensor, keep: Tensor | None = None, *, need_text: bool = True) -> Views:
        """Views of entities `idx` (B,) (`AttentionTower.represent`)."""
        grad = torch.is_grad_enabled() and self.training
        encode = partial(self.encode_text_train if grad else self.encode_text, side)
        return self.tower(side).represent(idx, self.seen_mask(side), keep, encode=encode, need_text=need_text)

    # -- training ---------------------------------------------------------------------------
    def _step(self, batch: Batch) -> _Step:
        """This step's ID rows and text-part vectors: attention over every entity (cached
        buckets) when the batch holds more than half of them, else over its unique ids."""
        u_cnt = torch.bincount(batch.users, minlength=self.n_users)  # occurrences; no sort
        batch_items = torch.cat([batch.pos_items, batch.neg_items])
        i_cnt = torch.bincount(batch_items, minlength=self.n_items)
        in_u, in_i = u_cnt > 0, i_cnt > 0
        users, items = in_u.nonzero().squeeze(1), in_i.nonzero().squeeze(1)  # unique, sorted
        users_t, items_t = self.user_tower, self.item_tower
        if fast_paths.attends_all(self, len(users), len(items)):
            # Every entity (ids outside the batch draw their dropout too; it does not matter).
            u_keep = users_t.keep(torch.arange(self.n_users, device=u_cnt.device), self.seen_users)
            i_keep = items_t.keep(torch.arange(self.n_items, device=i_cnt.device), self.seen_items)
            f = (fast_paths.fused_all(users_t, u_keep), fast_paths.fused_all(items_t, i_keep))  # (n, d) each
            e = (users_t.ids.table.weight, items_t.ids.table.weight)
            return _Step(True, users, items, (u_cnt, i_cnt), (batch.users, batch_items), (u_keep, i_keep), e, f, {})
        u_keep, i_keep = users_t.keep(users, self.seen_users), items_t.keep(items, self.seen_items)
        # Dynamic mode: InfoNCE's text view comes from this same encoding (not a second pass).
        need_text = self.dynamic and self.config.contrastive_weight > 0
        views = {
            "user": self.represent("user", users, u_keep, need_text=need_text),
            "item": self.represent("item", items, i_keep, need_text=need_text),
        }
        f = (views["user"]["fusion"], views["item"]["fusion"])  # (U, d), (I, d)
        rows = ((in_u.cumsum(0) - 1)[batch.users], (in_i.cumsum(0) - 1)[batch_items])  # positions in users / items
        counts = (u_cnt[users], i_cnt[items])
        e = (users_t.ids.raw(users), items_t.ids.raw(items))
        return _Step(False, users, items, counts, rows, (u_keep, i_keep), e, f, views)

    def loss(self, batch: Batch) -> dict[str, Tensor]:
        """Named parts: `bpr`, `reg` (L2 on the batch's ID rows), `text_to_id` (the map's
        regression), `contrastive` (InfoNCE) and their weighted sum `total`."""
        c, b, s = self.config, len(batch.users), self._step(batch)
        (u_keep, i_keep), (e_u, e_i), (f_u, f_i) = s.keep, s.e, s.f
        pooled: tuple[Tensor, Tensor] | None = None
        if self.item_pooled is not None:  # base "gpt2rec": GPT2Recommender's text part, same ids and dropout
            u_ids, i_ids = (None, None) if s.every else (s.users, s.items)
            pooled = (self._pooled_part("user", u_ids, u_keep), self._pooled_part("item", i_ids, i_keep))
        # MF part: ids unseen in training (and, with `mf_dropout`, dropped ones) score with a
        # zero embedding and a zero bias.
        if not c.mf_dropout:
            u_keep = self.seen_users if s.every else self.seen_users[s.users]
            i_keep = self.seen_items if s.every else self.seen_items[s.items]
        e_u, e_id = e_u * u_keep.unsqueeze(1), e_i * i_keep.unsqueeze(1)  # e_id: the ID rows L2 sees
        mapped: Tensor | None = None
        if self.text_to_id is not None:
            # Items without an MF row of their own (unseen, or dropped with `mf_dropout`) take
            # one from their text, A t_i, so BPR trains the map on exactly the items it serves.
            mapped = self.text_to_id(self.item_tower.project_cached(None if s.every else s.items))
            e_i = torch.where(i_keep.unsqueeze(1), e_i, mapped)
        else:
            e_i = e_id
        bias = None if self.bias is None else (self.bias if s.every else self.bias[s.items])
        # One vector per entity holding every part (the bias against a 1), so each triple costs
        # one product: <[e_u, f_u / sqrt(d), 1], [e_i, gate * f_i, b_i]>.
        zu, zi = [e_u, f_u * self._scale], [e_i, f_i * self.gate]
        if pooled is not None:
            zu, zi = zu + [pooled[0]], zi + [pooled[1] * self.base_gate]
        if bias is not None:
            zu, zi = zu + [torch.ones_like(e_u[:, :1])], zi + [(bias * i_keep).unsqueeze(1)]
        # index_select, not indexing: its backward is an index_add, about three times faster
        # on CPU; positives and negatives gathered apart (slicing one gather zero-fills a
        # (2b, .) gradient buffer in backward).
        zu_b, zi_all, i_rows = torch.cat(zu, 1).index_select(0, s.rows[0]), torch.cat(zi, 1), s.rows[1]
        pos = (zu_b * zi_all.index_select(0, i_rows[:b])).sum(-1)
        neg = (zu_b * zi_all.index_select(0, i_rows[b:])).sum(-1)
        parts = {"bpr": bpr_loss(pos, neg)}
        if c.reg_weight > 0:
            parts["reg"] = mf_l2_unique(c.reg_weight, e_u, s.counts[0], e_id, s.counts[1], b)
        if mapped is not None and c.text_to_id_weight > 0:  # ||A t_i - e_i||^2 on seen items, e_i detached
            seen = self.seen_items if s.every else self.seen_items[s.items]
            gap = (mapped[seen] - s.e[1][seen].detach()).pow(2).sum(-1)
            parts["text_to_id"] = gap.mean() if len(gap) else mapped.sum() * 0.0
        if c.contrastive_weight > 0:
            cl = self._contrastive("item", s.items, s.views.get("item"))
            if self.user_tower.text is not None:
                cl = (cl + self._contrastive("user", s.users, s.views.get("user"))) / 2
            parts["contrastive"] = cl
        total = parts["bpr"]
        for key, weight in (("reg", 1.0), ("text_to_id", c.text_to_id_weight), ("contrastive", c.contrastive_weight)):
            total = total + weight * parts[key] if key in parts else total
        parts["total"] = total
        return parts

    def _contrastive(self, side: Side, idx: Tensor, views: Views | None) -> Tensor:
        """InfoNCE between the ID view e (the raw table row) and the text view t of a sample of
        the batch's `idx` (unique) seen in training; t from `views` when already encoded."""
        tower = self.tower(side)
        rows = self.seen_mask(side)[idx].nonzero().squeeze(1)
        if len(rows) > self.config.contrastive_sample:  # a random subset, like a CLIP batch
            rows = rows[torch.randperm(len(rows), device=rows.device)[: self.config.contrastive_sample]]
        if views is not None and "text" in views:
            text = views["text"][rows]
        elif self.dynamic:
            text = tower.text_proj(self.encode_text_train(side, idx[rows])[2])
        else:
            text = tower.project_cached(idx[rows])
        if len(rows) < 2:
            return text.sum() * 0.0
        return info_nce(tower.ids.raw(idx[rows]), text, self.config.temperature)

    def prepare(self, ctx: TrainContext) -> None:
        """Seen ids, then the PCA map of the token states (and with base "gpt2rec" the pooled text's
        standardisation) refitted on the entities with training interactions only."""
        super().prepare(ctx)
        for tower, seen in ((self.user_tower, self.seen_users), (self.item_tower, self.seen_items)):
            if tower.text is not None:
                tower.text.fit(seen)
        self._fit_pooled()

    def _pooled_part(self, side: Side, idx: Tensor | None, keep: Tensor | None) -> Tensor:
        """(B, d) GPT2Recommender's text part of `idx` (base "gpt2rec"), of every entity in id
        order when None (the table itself, no gather); ID-only users: q."""
        ids, seen = self.tower(side).ids, self.seen_mask(side)
        if idx is None:
            keep = ids.keep(torch.arange(len(seen), device=seen.device), seen) if keep is None else keep
            q = ids.every(keep)
        else:
            q = ids(idx, seen, keep)
        part = self.user_pooled if side == "user" else self.item_pooled
        return q if part is None else part(q, idx)

    # -- scoring ----------------------------------------------------------------------------
    def _tables(self) -> ScoringTables:
        """Every user's and item's scoring vectors (eval mode), once per scoring pass."""
        return self.scoring_table(("tables", self.use_cache), self._build_tables)

    @torch.no_grad()
    def _build_tables(self) -> ScoringTables:
        tables: ScoringTables = {
            "users": self.user_tower.mf_rows(self.seen_users),
            "items": self._item_mf_rows(),
            "bias": None if self.bias is None else self.bias * self.seen_items,
            "text_users": self._all("user", "fusion") * self._scale,
            "text_items": self._all("item", "fusion") * self.gate,
        }
        if self.item_pooled is not None:
            # Base "gpt2rec": GPT2Recommender's score first, as it computes it; the attention
            # part added last (with gate 0 it adds exact zeros).
            pu, pi = self._pooled_part("user", None, None), self._pooled_part("item", None, None)
            tables["extra_users"], tables["extra_items"] = tables["text_users"], tables["text_items"]
            tables["text_users"], tables["text_items"] = pu, pi * self.base_gate
        return tables

    def _item_mf_rows(self) -> Tensor:
        """(n_items, d) the MF part's item rows at scoring time: ID rows of items seen in
        training; for unseen items 0, or with `text_to_id` their text view mapped, A t_i."""
        rows = self.item_tower.mf_rows(self.seen_items)
        if self.text_to_id is None:
            return rows
        return torch.where(self.seen_items.unsqueeze(1), rows, self.text_to_id(self.item_tower.project_cached()))
