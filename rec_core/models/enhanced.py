"""GPT2RecommenderEnhanced: dynamic text encoding, cross-attention fusion, contrastive learning.

The seed design's improved model (seed-design.zh.md), two towers (models/towers.py): a user
tower and an item tower, each an ID embedding, a text side and a fusion. Per entity:

    e      = ID embedding: the row of a training id, 0 for unseen / dropped ids   (B, d)
    q      = ID query: e, or a learned neutral vector for unseen / dropped ids      (B, d)
    S, m   = metadata token states, layer-normalised and reduced by a fixed PCA to
             `text_rank` dims, and their mask                         (B, T, r), (B, T)
    f      = LayerNorm([q +] CrossAttention(query=q, keys=values=S))   use_attention=True
           = LayerNorm([q +] MLP(pool(backbone states)))               use_attention=False
             ([q +]: the seed's residual, `text_residual`; off by default: the ID already
             enters the score through the MF part, and a second, LayerNorm-scaled copy escaped
             the MF part's L2 and overfitted)
    score(u, i) = <e_u, e_i> + b_i                  the MF part, exactly as models/mf.py
                + <f_u, gate * f_i> / sqrt(d)       the gated text part (gate: (d,), learned)

The ID path never passes through a LayerNorm: with gate 0 the model scores exactly as MF with
the same ID weights (`gate_init=0` plus `init_from_run`, an MF run's weights, starts training
from that MF). A dropped id (`id_dropout`, training only) queries the text part with the
neutral vector, as an unseen id does, so the text part learns to score cold items (whose MF
part is 0); with `mf_dropout` its MF part is zeroed too. Off by default: on ML-100K `ratio`,
zeroing 10% of ids' MF part raised a warm-started MF's training BPR from 0.10 to 0.17 and
lowered its validation NDCG@10 within a few epochs.

Token states come from the frozen feature cache (`use_cache=True`) or, in dynamic mode, from
re-running the top `dynamic_layers` backbone blocks with gradients (LoRA adapters, or the
blocks' own weights) on cached inputs. The contrastive term aligns each batch entity's ID
view with its text view (symmetric InfoNCE).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from rec_core.configs.model import EnhancedConfig
from rec_core.configs import PRESETS
from rec_core.data.interactions import InteractionData, TextTable
from rec_core.errors import ConfigError
from rec_core.models.base import Batch, TrainContext, View
from rec_core.models.explain import Explanation, explanation
from rec_core.models.fusion import CrossAttentionFusion
from rec_core.models.gpt2rec import standardise
from rec_core.models.lora import fast_dropout, freeze_all, inject_lora, unfreeze_top_blocks
from rec_core.models.losses import bpr_loss, info_nce
from rec_core.models.mf import mf_l2_unique
from rec_core.models.text_features import IdEmbedding, TextSide, encode_table
from rec_core.models.towers import AttentionTower, Encoded, ScoringTables, Side, TwoTowerRecommender
from rec_core.text import TextEncoder, TextEncoderConfig
from rec_core.text.tokens import content_mask

__all__ = ["EnhancedConfig", "GPT2RecommenderEnhanced", "PRESETS"]


class PooledPart(nn.Module):
    """One side of GPT2Recommender's text part (base "gpt2rec"), computed as models/gpt2rec.py
    computes it: f = W [q ; z], q the ID query (own row, or the neutral vector for unseen and
    dropped ids), z the pooled text standardised with the statistics of the entities that have
    training interactions. `fusion` holds what a GPT2Recommender checkpoint's
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

    def forward(self, q: Tensor, idx: Tensor) -> Tensor:
        """(B, d) f = W [q ; z] for ids `idx` (B,) whose ID queries are `q` (B, d)."""
        return self.fusion(torch.cat([q, self.meta[idx]], dim=-1))


class GPT2RecommenderEnhanced(TwoTowerRecommender[AttentionTower]):
    name: ClassVar[str] = "enhanced"
    needs_data: ClassVar[bool] = True
    views: ClassVar[tuple[str, ...]] = ("id", "text", "fused")
    legacy_prefixes: ClassVar[tuple[tuple[str, str], ...]] = tuple(
        (f"{side}_{old}.", f"{side}_tower.{new}.")
        for side in ("user", "item")
        for old, new in (
            ("id", "ids"),
            ("text", "text"),
            ("text_proj", "text_proj"),
            ("fusion", "fusion"),
            ("norm", "fusion"),
        )
    )
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
        self.encoder = encoder or TextEncoder(
            TextEncoderConfig(c.backbone, c.max_length, c.pooling, precision=c.precision)
        )
        if c.trainable_backbone and c.dynamic_layers > self.encoder.n_layers:
            raise ConfigError(
                "dynamic_layers", f"{c.backbone} has {self.encoder.n_layers} blocks; got {c.dynamic_layers}"
            )
        freeze_all(self.encoder)
        keep = c.dynamic_layers if c.trainable_backbone else None
        # Token states only matter to attention (and to the PCA map dynamic mode reuses).
        states = c.use_attention or c.trainable_backbone
        # Features are encoded (or loaded from the cache) before adapters exist, so the cache
        # key is the pretrained backbone's and every run shares it.
        enc_items, hit_i = encode_table(self.encoder, self.item_table, keep, keep_states=states)
        item_text = TextSide(enc_items, c.text_rank)
        self.cache_hits = {"item": hit_i}
        user_text = None
        if self.use_user_text:
            enc_users, hit_u = encode_table(self.encoder, self.user_table, keep, keep_states=states)
            user_text = TextSide(enc_users, c.text_rank)
            self.cache_hits["user"] = hit_u
        if c.content_keys and c.use_attention:
            item_text.restrict_keys(content_mask(self.encoder, self.item_table, item_text.mask.shape[1]))
            if user_text is not None:
                user_text.restrict_keys(content_mask(self.encoder, self.user_table, user_text.mask.shape[1]))
        self.backbone_trainable_params = 0
        if c.use_peft:
            self.backbone_trainable_params = inject_lora(
                self.encoder, c.dynamic_layers, c.lora_rank, c.lora_alpha, c.lora_dropout
            )
        elif not c.freeze_gpt2:
            self.backbone_trainable_params = unfreeze_top_blocks(self.encoder, c.dynamic_layers)
        if c.trainable_backbone:
            fast_dropout(self.encoder)
        # The towers' parts are built in the order their initialisation draws from the RNG
        # (LoRA above, ID tables, text projections, fusions; items before users from the
        # projections on), so that a seed gives the same weights as in every earlier version.
        h, d, r = self.encoder.hidden_size, c.embed_dim, item_text.rank
        user_id = IdEmbedding(n_users, d, c.init_std, c.id_dropout)
        item_id = IdEmbedding(n_items, d, c.init_std, c.id_dropout)
        # One projection of pooled text (B, H) to the embedding space per side: the text view.
        item_proj = nn.Sequential(nn.LayerNorm(h), nn.Linear(h, d), nn.GELU(), nn.Linear(d, d))
        user_proj = nn.Sequential(nn.LayerNorm(h), nn.Linear(h, d), nn.GELU(), nn.Linear(d, d))
        item_fusion: CrossAttentionFusion | nn.LayerNorm
        user_fusion: CrossAttentionFusion | nn.LayerNorm
        if c.use_attention:
            item_fusion = CrossAttentionFusion(d, r, c.n_heads, c.dropout, c.text_residual)
            user_fusion = CrossAttentionFusion(
                d, user_text.rank if user_text is not None else r, c.n_heads, c.dropout, c.text_residual
            )
        else:
            item_fusion, user_fusion = nn.LayerNorm(d), nn.LayerNorm(d)
        flags = {"text_residual": c.text_residual, "query_grad": c.query_grad}
        self.user_tower = AttentionTower(user_id, user_text, user_proj, user_fusion, **flags)
        self.item_tower = AttentionTower(item_id, item_text, item_proj, item_fusion, **flags)
        # Fused vectors are LayerNorm outputs (unit variance per dimension): unscaled, their dot
        # products start around +-sqrt(d) and BPR saturates; 1/sqrt(d) as in scaled attention.
        self._scale = 1.0 / d**0.5
        # The seed's switch: flip between fit() calls (scheme 3).
        self.use_cache = c.use_cache
        # Base "gpt2rec": GPT2Recommender's pooled-text part, built last so that the other
        # parts draw the same initial weights as with base "mf".
        self.user_pooled: PooledPart | None = None
        self.item_pooled: PooledPart | None = None
        if c.base == "gpt2rec":
            self.item_pooled = PooledPart(enc_items.pooled, d)
            if user_text is not None:
                self.user_pooled = PooledPart(enc_users.pooled, d)
            self.base_gate = nn.Parameter(torch.full((d,), float(c.base_gate_init)))
        # The text-to-ID map, built after every other part (the same initial weights without it).
        # Zero-initialised, drawing nothing from the RNG: it starts by mapping every text to 0,
        # the unseen items' MF row without it, so a warm start still scores as its source run.
        self.text_to_id: nn.Linear | None = None
        if c.text_to_id:
            self.text_to_id = nn.utils.skip_init(nn.Linear, d, d)
            with torch.no_grad():
                self.text_to_id.weight.zero_()
                self.text_to_id.bias.zero_()

    # -- text ---------------------------------------------------------------------------------
    @property
    def dynamic(self) -> bool:
        return not self.use_cache and self.config.trainable_backbone

    def encode_text_train(self, side: Side, idx: Tensor) -> Encoded:
        """(states (B, T, r), mask (B, T), pooled (B, H)) of `idx`, with gradients reaching the
        backbone in dynamic mode."""
        return self.tower(side).encode(idx, self.encoder if self.dynamic else None)

    @torch.no_grad()
    def encode_text(self, side: Side, idx: Tensor) -> Encoded:
        """Inference path of `encode_text_train`: no gradients, no dropout."""
        return self.tower(side).encode(idx, self.encoder if self.dynamic else None)

    # -- representations ---------------------------------------------------------------------------
    def represent(
        self, side: Side, idx: Tensor, keep: Tensor | None = None, *, need_text: bool = True
    ) -> dict[str, Tensor]:
        """Views of entities `idx` (B,) (`AttentionTower.represent`): `query` (the ID query q),
        `text` (projected pooled text, with `need_text`), `fusion` (the text part's vector f)
        (B, d) and `attention` (B, heads, T). `keep` (B,) bool: which ids use their own row
        (default: seen ones, minus the ID dropout while training)."""
        grad = torch.is_grad_enabled() and self.training
        encode = partial(self.encode_text_train if grad else self.encode_text, side)
        return self.tower(side).represent(idx, self.seen_mask(side), keep, encode=encode, need_text=need_text)

    # -- training ---------------------------------------------------------------------------
    def _attend_all(self, n_users: int, n_items: int) -> bool:
        """Whether a step attends over every entity (bucketed, cached mode) rather than
        gathering the batch's: when the batch holds more than half of all entities."""
        return not self.dynamic and 2 * (n_users + n_items) > self.n_users + self.n_items

    def loss(self, batch: Batch) -> dict[str, Tensor]:
        c = self.config
        b = len(batch.users)
        batch_items = torch.cat([batch.pos_items, batch.neg_items])
        # How often each id occurs in the batch (items: as positive or negative); no sort.
        u_cnt = torch.bincount(batch.users, minlength=self.n_users)
        i_cnt = torch.bincount(batch_items, minlength=self.n_items)
        in_u, in_i = u_cnt > 0, i_cnt > 0
        views: dict[str, dict[str, Tensor]] = {}
        users_t, items_t = self.user_tower, self.item_tower
        bias: Tensor | None
        every = self._attend_all(int(in_u.sum()), int(in_i.sum()))
        if every:
            # Every entity (ids outside the batch draw their dropout too; it does not matter).
            u_keep = users_t.keep(torch.arange(self.n_users, device=u_cnt.device), self.seen_users)
            i_keep = items_t.keep(torch.arange(self.n_items, device=i_cnt.device), self.seen_items)
            fu, fi = users_t.fused_all(u_keep), items_t.fused_all(i_keep)  # (n_users, d), (n_items, d)
            e_u, e_i = users_t.ids.table.weight, items_t.ids.table.weight
            bias = self.bias
            u_rows, i_rows = batch.users, batch_items
            users, items = in_u.nonzero().squeeze(1), in_i.nonzero().squeeze(1)  # for InfoNCE
        else:
            users, items = in_u.nonzero().squeeze(1), in_i.nonzero().squeeze(1)  # unique, sorted
            u_keep = users_t.keep(users, self.seen_users)
            i_keep = items_t.keep(items, self.seen_items)
            # Dynamic mode: InfoNCE's text view comes from this same encoding (not a second pass).
            need_text = self.dynamic and c.contrastive_weight > 0
            views["user"] = self.represent("user", users, u_keep, need_text=need_text)
            views["item"] = self.represent("item", items, i_keep, need_text=need_text)
            fu, fi = views["user"]["fusion"], views["item"]["fusion"]  # (U, d), (I, d): the batch's unique ids
            e_u, e_i = users_t.ids.raw(users), items_t.ids.raw(items)
            bias = None if self.bias is None else self.bias[items]
            u_rows = (in_u.cumsum(0) - 1)[batch.users]  # position of each row's id in `users`
            i_rows = (in_i.cumsum(0) - 1)[batch_items]
            u_cnt, i_cnt = u_cnt[users], i_cnt[items]
        pooled: tuple[Tensor, Tensor] | None = None
        if self.item_pooled is not None:  # base "gpt2rec": GPT2Recommender's text part, same ids and dropout
            u_ids = torch.arange(self.n_users, device=u_cnt.device) if every else users
            i_ids = torch.arange(self.n_items, device=i_cnt.device) if every else items
            pooled = (self._pooled_part("user", u_ids, u_keep), self._pooled_part("item", i_ids, i_keep))
        # MF part: ids unseen in training (and, with `mf_dropout`, dropped ones) score with a
        # zero embedding and a zero bias.
        if not c.mf_dropout:
            u_keep = self.seen_users if every else self.seen_users[users]
            i_keep = self.seen_items if every else self.seen_items[items]
        e_u = e_u * u_keep.unsqueeze(1)
        mapped: Tensor | None = None
        if self.text_to_id is not None:
            # Items without an MF row of their own (unseen, or dropped with `mf_dropout`) take
            # one from their text, A t_i, so BPR trains the map on exactly the items it serves.
            mapped = self.text_to_id(items_t.project_cached(None if every else items))
            e_i_raw = e_i
            e_i = torch.where(i_keep.unsqueeze(1), e_i, mapped)
        else:
            e_i = e_i * i_keep.unsqueeze(1)
        # One vector per entity holding both parts (and the bias against a 1), so each triple
        # costs one product: <[e_u, f_u/sqrt(d), 1], [e_i, gate*f_i, b_i]>.
        zu, zi = [e_u, fu * self._scale], [e_i, fi * self.gate]
        if pooled is not None:
            zu.append(pooled[0])
            zi.append(pooled[1] * self.base_gate)
        if bias is not None:
            zu.append(torch.ones_like(e_u[:, :1]))
            zi.append((bias * i_keep).unsqueeze(1))
        # index_select, not indexing: its backward is an index_add, about three times faster
        # on CPU than indexing's zero-fill and accumulating index_put at these shapes.
        zu_b = torch.cat(zu, 1).index_select(0, u_rows)
        zi_all = torch.cat(zi, 1)
        # Positives and negatives gathered apart: slicing one (2b, .) gather costs its backward a
        # zero-filled (2b, .) gradient buffer (measured on ML-100K shapes: 3.3 ms against 2.0 ms a step).
        pos = (zu_b * zi_all.index_select(0, i_rows[:b])).sum(-1)
        neg = (zu_b * zi_all.index_select(0, i_rows[b:])).sum(-1)
        bpr = bpr_loss(pos, neg)
        parts = {"bpr": bpr}
        total = bpr
        if c.reg_weight > 0:
            e_reg = e_i if mapped is None else e_i_raw * i_keep.unsqueeze(1)  # L2 on ID rows, not on the map's output
            parts["reg"] = mf_l2_unique(c.reg_weight, e_u, u_cnt, e_reg, i_cnt, b)
            total = total + parts["reg"]
        if mapped is not None and c.text_to_id_weight > 0:
            seen = self.seen_items if every else self.seen_items[items]
            gap = (mapped[seen] - e_i_raw[seen].detach()).pow(2).sum(-1)
            parts["text_to_id"] = gap.mean() if len(gap) else mapped.sum() * 0.0
            total = total + c.text_to_id_weight * parts["text_to_id"]
        if c.contrastive_weight > 0:
            cl = self._contrastive("item", items, views.get("item"))
            if self.user_tower.text is not None:
                cl = (cl + self._contrastive("user", users, views.get("user"))) / 2
            parts["contrastive"] = cl
            total = total + c.contrastive_weight * cl
        parts["total"] = total
        return parts

    def _contrastive(self, side: Side, idx: Tensor, views: dict[str, Tensor] | None) -> Tensor:
        """InfoNCE between the ID and text views of a sample of the batch's `idx` (unique).

        Only ids seen in training have an ID view worth aligning; the raw table row is used
        (not the neutral vector the dropout may have put in its place). The text view is
        projected for the sampled rows only (from `views` when the batch was encoded already).
        """
        tower = self.tower(side)
        rows = self.seen_mask(side)[idx].nonzero().squeeze(1)
        if len(rows) > self.config.contrastive_sample:  # a random subset, like a CLIP batch
            pick = torch.randperm(len(rows), device=rows.device)[: self.config.contrastive_sample]
            rows = rows[pick]
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
        """Seen ids, then the token states' PCA map refitted on the entities with training
        interactions (`TextSide.fit`): held-out cold items do not shape it (nor, with base
        "gpt2rec", the pooled text's standardisation)."""
        super().prepare(ctx)
        for tower, seen in ((self.user_tower, self.seen_users), (self.item_tower, self.seen_items)):
            if tower.text is not None:
                tower.text.fit(seen)
        self._fit_pooled()

    def _fit_pooled(self) -> None:
        for part, seen in ((self.user_pooled, self.seen_users), (self.item_pooled, self.seen_items)):
            if part is not None:
                part.fit(seen)

    def _pooled_part(self, side: Side, idx: Tensor, keep: Tensor | None) -> Tensor:
        """(B, d) GPT2Recommender's text-part vectors of `idx` (base "gpt2rec"); an ID-only side
        (no user text) is its ID query, as in GPT2Recommender."""
        q = self.tower(side).ids(idx, self.seen_mask(side), keep)
        part = self.user_pooled if side == "user" else self.item_pooled
        return q if part is None else part(q, idx)

    def load_base_weights(self, state: dict[str, Tensor]) -> None:
        """Warm start from a GPT2Recommender checkpoint (base "gpt2rec"): its ID tables and
        neutral vectors, item bias, both sides' projections and its gate, every weight the two
        models share. With `gate_init` 0 the model then scores exactly as that run. With
        `freeze_mf` every copied weight stays fixed (the whole GPT2Recommender, as the MF part
        after an MF warm start): the attention part learns a residual over that run."""
        if self.item_pooled is None:
            raise ConfigError("base", "a GPT2Recommender run can only start a model with base 'gpt2rec'")
        pairs: list[tuple[str, Tensor]] = [("gate", self.base_gate)]
        sides: tuple[tuple[Side, PooledPart | None], ...] = (("user", self.user_pooled), ("item", self.item_pooled))
        for side, part in sides:
            ids = self.tower(side).ids
            pairs += [(f"{side}_tower.ids.table.weight", ids.table.weight), (f"{side}_tower.ids.neutral", ids.neutral)]
            if part is not None:
                pairs += [
                    (f"{side}_tower.fusion.weight", part.fusion.weight),
                    (f"{side}_tower.fusion.bias", part.fusion.bias),
                ]
        if self.bias is not None:
            pairs.append(("bias", self.bias))
        missing = [k for k, t in pairs if k not in state or state[k].shape != t.shape]
        if missing:
            raise ConfigError(
                "init_from_run", f"the GPT2Recommender checkpoint lacks or mis-sizes {', '.join(missing)}"
            )
        with torch.no_grad():
            for key, target in pairs:
                target.copy_(state[key])
        if self.config.freeze_mf:  # all of GPT2Recommender stays fixed: the attention learns a residual over it
            for _key, target in pairs:
                target.requires_grad_(False)
        self.warm_started = True

    def fit_phases(self, epochs: int) -> list[tuple[str, int, Callable[[], None] | None]]:
        """(name, epochs, setup) per phase. Scheme 3: `cached_epochs` in cache mode ("cached"),
        then the rest with dynamic encoding ("dynamic"); else one phase named after the mode.

        The names go into every epoch record and the run's results (`best_phase`), so a run
        says which phase its restored weights come from.
        """
        c = self.config
        if c.cached_epochs == 0 or not c.trainable_backbone:
            return [("cached" if self.use_cache else "dynamic", epochs, None)]
        cached = epochs // 2 if c.cached_epochs < 0 else min(c.cached_epochs, epochs)

        def to_cache() -> None:
            self.use_cache = True

        def to_dynamic() -> None:
            self.use_cache = False

        return [("cached", cached, to_cache), ("dynamic", epochs - cached, to_dynamic)]

    def phase_patience(self, name: str) -> int | None:
        """Scheme 3's dynamic phase stops after `dynamic_patience` epochs that do not beat the
        best so far (the cached phase's best included); other phases use the run's patience."""
        c = self.config
        if name == "dynamic" and c.cached_epochs != 0 and c.dynamic_patience >= 0:
            return c.dynamic_patience
        return None

    # -- scoring ----------------------------------------------------------------------------
    def _tables(self) -> ScoringTables:
        """Every user's and item's scoring vectors (eval mode): built once per scoring pass
        (`Recommender.scoring`), afresh on every call outside one."""
        return self.scoring_table(("tables", self.use_cache), self._build_tables)

    def _build_tables(self) -> ScoringTables:
        with torch.no_grad():
            fu, fi = self._all("user", "fusion"), self._all("item", "fusion")
            tables: ScoringTables = {
                "users": self.user_tower.mf_rows(self.seen_users),
                "items": self._item_mf_rows(),
                "bias": None if self.bias is None else self.bias * self.seen_items,
                "text_users": fu * self._scale,
                "text_items": fi * self.gate,
            }
            if self.item_pooled is not None:
                # Base "gpt2rec": GPT2Recommender's score first, as it computes it; the attention
                # part added last (with gate 0 it adds exact zeros).
                dev = self.seen_items.device
                pu = self._pooled_part("user", torch.arange(self.n_users, device=dev), None)
                pi = self._pooled_part("item", torch.arange(self.n_items, device=dev), None)
                tables["extra_users"], tables["extra_items"] = tables["text_users"], tables["text_items"]
                tables["text_users"], tables["text_items"] = pu, pi * self.base_gate
            return tables

    def _item_mf_rows(self) -> Tensor:
        """(n_items, d) the MF part's item rows at scoring time: ID rows of items seen in
        training; for unseen items 0, or with `text_to_id` their text mapped to the ID side."""
        rows = self.item_tower.mf_rows(self.seen_items)
        if self.text_to_id is None:
            return rows
        mapped = self.text_to_id(self.item_tower.project_cached())
        return torch.where(self.seen_items.unsqueeze(1), rows, mapped)

    def _all(self, side: Side, view: str, chunk: int = 1024) -> Tensor:
        """(n, d) view `view` ("text" or "fusion") of every entity of `side`."""
        n = self.n_users if side == "user" else self.n_items
        device = self.seen_items.device
        if view == "fusion" and not self.dynamic and not self.training:
            return self.tower(side).fused_all(self.seen_mask(side))
        parts = [
            self.represent(side, torch.arange(s, min(n, s + chunk), device=device))[view] for s in range(0, n, chunk)
        ]
        return torch.cat(parts)

    def user_embeddings(self, view: View = "fused") -> Tensor:
        self._check_view(view)
        if view == "text" and not self.use_user_text:
            raise ConfigError("view", "this model has no user text (use_user_text is off or users have no text)")
        return self._embeddings("user", view)

    def item_embeddings(self, view: View = "fused") -> Tensor:
        self._check_view(view)
        return self._embeddings("item", view)

    def _embeddings(self, side: Side, view: str) -> Tensor:
        """`id`: the MF part's ID embeddings (0 for unseen ids, or for items with `text_to_id`
        their mapped text); `text`: projected pooled text;
        `fused`: the design's fused vectors f = LayerNorm([q +] attention), the text part of the
        score (score = <id_u, id_i> + b_i + <f_u, gate * f_i> / sqrt(d))."""
        was = self.training
        self.eval()
        try:
            with torch.no_grad():
                if view == "id":
                    rows = self._item_mf_rows() if side == "item" else self.user_tower.mf_rows(self.seen_users)
                    return rows.detach().cpu()
                return self._all(side, "text" if view == "text" else "fusion").detach().cpu()
        finally:
            self.train(was)

    # -- explanations -----------------------------------------------------------------------
    def explain_user(self, u: int) -> Explanation:
        """Cross-attention of user `u`'s ID query over its profile tokens (heads x tokens)."""
        return self._explain("user", u)

    def explain_item(self, i: int) -> Explanation:
        """Cross-attention of item `i`'s ID query over its metadata tokens (heads x tokens)."""
        return self._explain("item", i)

    def _explain(self, side: Side, k: int) -> Explanation:
        if not self.config.use_attention:
            raise ConfigError("use_attention", "this model fuses without attention; nothing to explain")
        if self.tower(side).text is None:
            raise ConfigError("use_user_text", "users have no text in this model")
        n = self.n_users if side == "user" else self.n_items
        if not 0 <= k < n:
            raise ConfigError(side, f"index {k} outside [0, {n})")
        was = self.training
        self.eval()
        try:
            with torch.no_grad():
                rep = self.represent(side, torch.tensor([k], device=self.seen_items.device))
        finally:
            self.train(was)
        table = self.user_table if side == "user" else self.item_table
        seen = bool(self.seen_mask(side)[k])
        return explanation(self.encoder, table, side, k, rep["attention"][0], seen)

    # -- checkpoints --------------------------------------------------------------------------
    def checkpoint_state(self) -> dict[str, Tensor]:
        # Frozen backbone weights come back from the backbone's name; adapters and unfrozen
        # top blocks were trained and are kept.
        frozen = {f"encoder.model.{n}" for n, p in self.encoder.model.named_parameters() if not p.requires_grad}
        return {k: v for k, v in self.state_dict().items() if k not in frozen}

    def load_checkpoint_state(self, state: dict[str, Tensor]) -> None:
        super().load_checkpoint_state(state)
        # The PCA map came from the checkpoint: recompute the reduced features with it.
        for tower in (self.item_tower, self.user_tower):
            if tower.text is not None:
                tower.text.refresh(tower.text._states)
        self._fit_pooled()  # from the checkpoint's seen masks, as when it was trained

    def describe(self) -> dict[str, Any]:
        """Facts for the run record: backbone, cache hits, trainable counts."""
        return {
            "backbone": self.encoder.backbone.name,
            "backbone_description": self.encoder.backbone.description,
            "backbone_identity": self.encoder.backbone.identity,
            "text_cache_hits": self.cache_hits,
            "backbone_trainable_params": self.backbone_trainable_params,
            "use_user_text": self.use_user_text,
        }
