"""Two-tower text models: a user tower and an item tower, scored as MF part + gated text part.

A tower is one side (users or items) of a text model: its ID embedding, its text and the
fusion of the two into the vectors of the score's text part. Both text models are

    score(u, i) = <e_u, e_i> + b_i                      the MF part, exactly as models/mf.py
                + <t_u, gate * t_i>                     the gated text part

with e the towers' ID table rows (0 for unseen ids), b an item bias and t a tower's fused
vector (the Enhanced model scales t_u by 1/sqrt(d)). `TwoTowerRecommender` holds the two
towers, the bias and the gate, scores from tables of every user and item built once per
scoring pass, warm-starts the MF part from an MF run, and loads checkpoints written before the
towers existed (`legacy_prefixes`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Generic, Literal, NotRequired, Protocol, TypedDict, TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rec_core.models.base import Recommender
from rec_core.models.fusion import CrossAttentionFusion
from rec_core.models.mf import mf_full_scores, mf_pair_scores, seen_rows
from rec_core.models.text_features import IdEmbedding, TextSide, _length_buckets
from rec_core.text import TextEncoder

__all__ = ["AttentionTower", "ConcatTower", "ScoringTables", "Side", "Tower", "TwoTowerRecommender"]

Side = Literal["user", "item"]
# (states (B, T, r), mask (B, T), pooled (B, H)) of a batch of ids: token states PCA-reduced
# to the model's `text_rank` r, their mask (True on real tokens), pooled backbone states.
Encoded = tuple[Tensor, Tensor, Tensor]


class Tower(nn.Module):
    """One side of a text model: the ID embedding `ids` (n, d) with its neutral vector;
    subclasses add the text and the fusion."""

    def __init__(self, ids: IdEmbedding) -> None:
        super().__init__()
        self.ids = ids

    def keep(self, idx: Tensor, seen: Tensor) -> Tensor:
        """(B,) bool: which of `idx` (B,) use their own ID row (`IdEmbedding.keep`; `seen`: the
        (n,) mask of training ids)."""
        return self.ids.keep(idx, seen)

    def mf_rows(self, seen: Tensor) -> Tensor:
        """(n, d) the MF part's table: ID rows, zero for ids unseen in training."""
        return seen_rows(self.ids.table.weight, seen)


class AttentionTower(Tower):
    """The Enhanced model's tower. For ids `idx` (B,):

        q       = ids(idx)                 (B, d)     own row, or the neutral vector (unseen / dropped)
        S, m, p = text                     (B, T, r), (B, T), (B, H): token states PCA-reduced
                                                      to `text_rank` r, their mask, pooled states
        t       = text_proj(p)             (B, d)     the text view (InfoNCE, the `text` view)
        f       = fusion(q, S, m)          (B, d)     LayerNorm([q +] CrossAttention(q, S))
                = fusion([q +] t)          (B, d)     LayerNorm([q +] t) without attention

    `text` is None for ID-only users (f = q); `text_proj` and `fusion` exist all the same,
    unused (built to keep the seeded initialisation and the checkpoint layout of every config).
    """

    def __init__(
        self,
        ids: IdEmbedding,
        text: TextSide | None,
        text_proj: nn.Module,
        fusion: CrossAttentionFusion | nn.LayerNorm,
        *,
        text_residual: bool,
        query_grad: bool,
    ) -> None:
        super().__init__(ids)
        self.text = text
        self.text_proj = text_proj
        self.fusion = fusion
        self.text_residual = text_residual  # f = LayerNorm(q + ...) (the attention fusion holds its own)
        self.query_grad = query_grad  # False: the text part's gradient stops at the ID rows
        # The cached pooled vectors normalised (`project_cached`), and the buffer they came from.
        self._pooled_hat: tuple[Tensor, Tensor] | None = None

    @property
    def use_attention(self) -> bool:
        return isinstance(self.fusion, CrossAttentionFusion)

    def encode(self, idx: Tensor, encoder: TextEncoder | None) -> Encoded:
        """(states (B, T, r), mask (B, T), pooled (B, H)) of `idx`: from the frozen cache, or
        with `encoder` re-running its top blocks (dynamic mode, gradients if enabled)."""
        if self.text is None:
            raise RuntimeError("this tower has no text (ID-only users)")
        return self.text.cached(idx) if encoder is None else self._dynamic(encoder, idx)

    def _dynamic(self, encoder: TextEncoder, idx: Tensor) -> Encoded:
        """`text.dynamic` in length buckets: the top blocks run on each bucket padded to its own
        longest text rather than the batch's (ML-100K items: 16 tokens on average, 32 at most,
        so about 40% of a step's block work was padding). Padded positions are masked in the
        blocks' attention, so real tokens get the same states (to float rounding); the buckets'
        outputs are put back in `idx` order, padded to the longest text with zeros."""
        assert self.text is not None
        lengths = self.text.mask[idx].sum(1)
        order = torch.sort(lengths, stable=True).indices
        # A bucket costs its rows times its length plus a fixed 512 token-rows (one more pass
        # of the blocks' kernels), at most 3 buckets; 8 tokens at least.
        buckets = _length_buckets(lengths[order].tolist(), max_buckets=3, overhead=512, min_width=8)
        if len(buckets) <= 1:
            return self.text.dynamic(encoder, idx)
        parts = [self.text.dynamic(encoder, idx[order[a:b]]) for a, b, _ in buckets]
        width = max(part[0].shape[1] for part in parts)
        states = torch.cat([F.pad(part[0], (0, 0, 0, width - part[0].shape[1])) for part in parts])
        mask = torch.cat([F.pad(part[1], (0, width - part[1].shape[1])) for part in parts])
        pooled = torch.cat([part[2] for part in parts])
        back = torch.argsort(order)
        return states[back], mask[back], pooled[back]

    def represent(
        self,
        idx: Tensor,
        seen: Tensor,
        keep: Tensor | None,
        *,
        encode: Callable[[Tensor], Encoded],
        need_text: bool = True,
    ) -> dict[str, Tensor]:
        """Views of `idx` (B,): `query` q, `text` t (with `need_text`, or without attention),
        `fusion` f (B, d) and, with attention, `attention` (B, heads, T). `keep` (B,) bool: which
        ids use their own row (default: seen ones, minus the ID dropout while training);
        `encode(idx)` gives the text features (`encode` above, cached or dynamic)."""
        if keep is None:
            keep = self.keep(idx, seen)
        q = self.ids(idx, seen, keep, detach_rows=not self.query_grad)
        out = {"query": q}
        if self.text is None:  # ID-only users
            out["fusion"] = q
            return out
        states, mask, pooled = encode(idx)
        if need_text or not self.use_attention:
            out["text"] = self.text_proj(pooled)
        if isinstance(self.fusion, CrossAttentionFusion):
            out["fusion"], out["attention"] = self.fusion(q, states, mask)
        else:
            out["fusion"] = self.fusion(q + out["text"] if self.text_residual else out["text"])
        return out

    def project_cached(self, rows: Tensor | None = None) -> Tensor:
        """`text_proj(text.pooled[rows])` (all rows when None), the text view from the frozen
        features. The projection starts with a LayerNorm whose normalisation of frozen vectors
        never changes: it is done once, and its affine part is folded into the next linear
        layer (x_hat * g + b) W^T + c = x_hat (W * g)^T + (W b + c), so a step pays one product
        and no gradient with respect to its (n, H) input (scheme 1: a third of its products)."""
        assert self.text is not None
        pooled = self.text.pooled
        proj = self.text_proj
        parts = list(proj) if isinstance(proj, nn.Sequential) else []
        if len(parts) < 2 or not isinstance(parts[0], nn.LayerNorm) or not isinstance(parts[1], nn.Linear):
            return proj(pooled if rows is None else pooled[rows])
        norm, linear = parts[0], parts[1]
        if self._pooled_hat is None or self._pooled_hat[0] is not pooled:
            # Built outside inference mode even when first asked for inside it (a warm start
            # validates before its first step): backward cannot save an inference tensor.
            with torch.inference_mode(False), torch.no_grad():
                self._pooled_hat = (pooled, F.layer_norm(pooled, norm.normalized_shape, eps=norm.eps))
        x = self._pooled_hat[1] if rows is None else self._pooled_hat[1][rows]
        weight: Tensor = linear.weight
        bias: Tensor = linear.bias
        if norm.weight is not None:
            weight = weight * norm.weight
        if norm.bias is not None:
            bias = linear.bias + linear.weight @ norm.bias
        h = F.linear(x, weight, bias)
        for layer in parts[2:]:
            h = layer(h)
        return h

    def fused_all(self, keep: Tensor) -> Tensor:
        """(n, d) fused vectors f of every entity from the cached features; `keep` (n,) as in
        `represent`. Attention runs over length buckets (contiguous copies of the cache, no
        gather): with most entities in every batch this is cheaper than gathering the batch's
        states, and it builds the evaluation tables."""
        rows = self.ids.table.weight if self.query_grad else self.ids.table.weight.detach()
        q = torch.where(keep.unsqueeze(1), rows, self.ids.neutral)  # (n, d)
        text = self.text
        if text is None:
            return q
        if not isinstance(self.fusion, CrossAttentionFusion):
            t = self.project_cached()  # (n, d)
            return self.fusion(q + t if self.text_residual else t)
        fused = self.fusion.forward_buckets(_Permute.apply(q, text.order, text.inverse), text.all_cached())
        return _Permute.apply(fused, text.inverse, text.order)


class _Permute(torch.autograd.Function):
    """`x[order]` for a permutation `order` (n,) of the rows of x (n, d), whose backward is the
    gather by the `inverse` permutation: indexing's own backward zero-fills an (n, d) gradient
    and scatter-adds into it, twice per tower and step."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, order: Tensor, inverse: Tensor) -> Tensor:
        ctx.save_for_backward(inverse)
        return x.index_select(0, order)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        (inverse,) = ctx.saved_tensors
        return grad.index_select(0, inverse), None, None


class ConcatTower(Tower):
    """The GPT2Recommender's tower (the seed's model). For ids `idx` (B,):

        q = ids(idx)                       (B, d)     own row, or the neutral vector (unseen / dropped)
        z = meta[idx]                      (B, H)     standardised pooled metadata embedding
        f = fusion([q ; z])                (B, d)     one linear map of the concatenation

    `meta` and `fusion` are None for ID-only users (f = q). `meta` is a non-persistent buffer:
    rebuilt from the feature cache, never saved.
    """

    meta: Tensor | None

    def __init__(self, ids: IdEmbedding, meta: Tensor | None, fusion: nn.Linear | None) -> None:
        super().__init__(ids)
        self.register_buffer("meta", meta, persistent=False)
        self.fusion = fusion

    def fused(self, idx: Tensor, seen: Tensor, keep: Tensor | None = None) -> Tensor:
        """(B, d) the projected vectors f = W [q ; z] of `idx` (B,) (ID-only: q); `keep` as in
        `AttentionTower.represent`."""
        q = self.ids(idx, seen, keep)
        if self.fusion is None or self.meta is None:
            return q
        return self.fusion(torch.cat([q, self.meta[idx]], dim=-1))


class ScoringTables(TypedDict):
    """Every user's and item's scoring vectors (`TwoTowerRecommender._tables`)."""

    users: Tensor  # (n_users, d) the MF part's user rows, 0 for unseen ids
    items: Tensor  # (n_items, d) the same for items
    bias: Tensor | None  # (n_items,) item bias, 0 for unseen items; None without `item_bias`
    text_users: Tensor  # (n_users, d) the text part's user vectors (the Enhanced model: scaled by 1/sqrt(d))
    text_items: Tensor  # (n_items, d) the text part's item vectors, gate applied
    # A second text part, added last (the Enhanced model over GPT2Recommender: its attention part,
    # whose zero gate then adds exact zeros to GPT2Recommender's own scores).
    extra_users: NotRequired[Tensor]
    extra_items: NotRequired[Tensor]


class TwoTowerConfig(Protocol):
    """The config fields `TwoTowerRecommender` reads (both text models' configs have them)."""

    @property
    def embed_dim(self) -> int: ...
    @property
    def item_bias(self) -> bool: ...
    @property
    def gate_init(self) -> float: ...
    @property
    def freeze_mf(self) -> bool: ...


TowerT = TypeVar("TowerT", bound=Tower)


def _rename_legacy_keys(module: nn.Module, state: dict[str, Any], prefix: str, *_: Any) -> None:
    """load_state_dict pre-hook: a checkpoint written before the towers existed names their
    parts after the side (`item_id.*`, `item_text_proj.*`, ...); rename them in place."""
    renames = getattr(type(module), "legacy_prefixes", ())
    for key in [k for k in state if k.startswith(prefix)]:
        rest = key[len(prefix) :]
        for old, new in renames:
            if rest.startswith(old) and prefix + new + rest[len(old) :] not in state:
                state[prefix + new + rest[len(old) :]] = state.pop(key)
                break


class TwoTowerRecommender(Recommender, Generic[TowerT]):
    """Base of the text models: `user_tower` and `item_tower` (set by the subclass after it
    built their parts), the MF part's item `bias` and the text part's `gate` (d,).

    Subclasses implement `loss`, `_tables` (once per scoring pass: `scoring_table`) and the
    embedding views; scoring, the warm start and the checkpoint upgrade are here.
    """

    user_tower: TowerT
    item_tower: TowerT
    bias: nn.Parameter | None
    # (old key prefix, new key prefix) of checkpoints saved before the towers (see the hook).
    legacy_prefixes: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init__(self, n_users: int, n_items: int, config: TwoTowerConfig) -> None:
        super().__init__(n_users, n_items)
        # Neither draws from the RNG: built here, before the towers' parts (whose order does).
        # MF part's item bias, zero-initialised as in MF.
        self.bias = nn.Parameter(torch.zeros(n_items)) if config.item_bias else None
        # Gate of the text part, one weight per dimension of the fused vectors.
        self.gate = nn.Parameter(torch.full((config.embed_dim,), float(config.gate_init)))
        self.warm_started = False  # `load_id_weights` copied an MF run's weights in
        self.register_load_state_dict_pre_hook(_rename_legacy_keys)

    def tower(self, side: Side) -> TowerT:
        return self.user_tower if side == "user" else self.item_tower

    def seen_mask(self, side: Side) -> Tensor:
        """(n,) bool: which ids of `side` occur in the training interactions."""
        return self.seen_users if side == "user" else self.seen_items

    # -- scoring ----------------------------------------------------------------------------
    def _tables(self) -> ScoringTables:
        raise NotImplementedError

    def full_scores(self, users: Tensor) -> Tensor:
        t = self._tables()
        mf = mf_full_scores(t["users"], t["items"], t["bias"], users)
        scores = mf + t["text_users"][users] @ t["text_items"].T  # (B, n_items)
        if "extra_users" in t:
            scores = scores + t["extra_users"][users] @ t["extra_items"].T
        return scores

    def score(self, users: Tensor, items: Tensor) -> Tensor:
        t = self._tables()
        mf = mf_pair_scores(t["users"], t["items"], t["bias"], users, items)
        scores = mf + (t["text_users"][users] * t["text_items"][items]).sum(-1)  # (B,)
        if "extra_users" in t:
            scores = scores + (t["extra_users"][users] * t["extra_items"][items]).sum(-1)
        return scores

    # -- warm start ---------------------------------------------------------------------------
    def load_id_weights(self, users: Tensor, items: Tensor, bias: Tensor | None) -> None:
        """Warm start: copy an MF model's ID embeddings (n, d) and item bias (n,) into the MF
        part (`init_from_run`; see rec_core/warm_start.py). With `freeze_mf` they stay fixed:
        the text part then learns a residual over that very MF."""
        mf_part = [self.user_tower.ids.table.weight, self.item_tower.ids.table.weight]
        with torch.no_grad():
            mf_part[0].copy_(users)
            mf_part[1].copy_(items)
            if self.bias is not None:
                self.bias.copy_(bias if bias is not None else torch.zeros_like(self.bias))
                mf_part.append(self.bias)
        if self.config.freeze_mf:
            for p in mf_part:
                p.requires_grad_(False)
        self.warm_started = True

    @property
    def validate_initial(self) -> bool:
        """A warm-started model validates its initial weights (see `Recommender`): with
        `gate_init` 0 they score exactly as the MF run they came from."""
        return self.warm_started
