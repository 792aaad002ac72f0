"""CPU fast paths of the Enhanced model (models/enhanced.py) that change no number.

Each function here computes what the model file writes out plainly, only cheaper; the model
calls them where an epoch spends its time, and tests/test_models_fast_paths.py checks each
against a plain reference to 1e-5 (outputs and gradients). What is here:

- `length_buckets`: runs of entities sorted by text length, so that attention over every
  entity pads each run to its own longest text, not the catalogue's (ML-100K items: about 40%
  fewer padded positions). `TextSide` keeps its cached states in such buckets.
- `fused_all` / `attend_buckets`: the text part f of every entity at once, attending over those
  buckets (no gather), and `Permute`, the row permutation into and out of bucket order with a
  gather as its backward. A step whose batch holds most entities uses it, and so does scoring.
- `encode_in_buckets`: dynamic mode's top backbone blocks run per length bucket of the batch.
- `FrozenTextView`: the text view text_proj(pooled) of frozen pooled vectors with the leading
  LayerNorm's normalisation done once and its affine part folded into the next linear layer.
- `folded_query_keys` / `folded_output`: the cross-attention's W_q,h W_k,h^T and W_v,h W_o,h of
  every head as one matrix each, when that takes fewer multiply-adds (`CrossAttention.folded`).
- `uniform_dropout` / `UniformDropout`: inverted dropout from a uniform draw (the same
  distribution as `F.dropout`; torch's CPU Bernoulli sampler was about three times slower).

Shapes: B entities, T tokens, r the reduced token-state size, d the embedding size, H the
backbone's hidden size; bucket b holds n_b entities padded to T_b tokens.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

if TYPE_CHECKING:
    from rec_core.models.enhanced import AttentionTower, CrossAttention, GPT2RecommenderEnhanced
    from rec_core.models.text_features import TextSide
    from rec_core.text import TextEncoder

__all__ = [
    "FrozenTextView",
    "Permute",
    "UniformDropout",
    "attend_buckets",
    "attends_all",
    "encode_in_buckets",
    "folded_output",
    "folded_query_keys",
    "fused_all",
    "length_buckets",
    "uniform_dropout",
]

# One length bucket of cached states: (start, end) in length order, states (n_b, T_b, r),
# additive mask (n_b, 1, T_b) with 0 on tokens and -inf on padding, states transposed (n_b, r, T_b).
Bucket = tuple[int, int, Tensor, Tensor, Tensor]


def uniform_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Inverted dropout, as `F.dropout`, from a uniform draw: torch's CPU Bernoulli sampler
    took 1.2 ms per (1682, 64) draw, a uniform draw and a comparison about a third of that."""
    if not training or p == 0:
        return x
    return x * ((torch.rand_like(x) >= p) * (1.0 / (1.0 - p)))


class UniformDropout(nn.Dropout):
    """`nn.Dropout` drawing its mask with `uniform_dropout` (same distribution, faster on CPU);
    `lora.fast_dropout` puts it in place of a backbone's dropout modules."""

    def forward(self, input: Tensor) -> Tensor:
        return uniform_dropout(input, self.p, self.training)


def folded_query_keys(attn: CrossAttention, q: Tensor) -> Tensor:
    """`attn.query_keys(q)` (B, heads, r), q (W_q,h W_k,h^T) / sqrt(hd) with the maps of every head
    as one (d, heads * r) matrix, built per call (a few hundred thousand multiply-adds); the
    batch pays one contiguous GEMM."""
    heads, hd, r, d = attn.heads, attn.hd, attn.r, attn.d
    scale = 1.0 / math.sqrt(hd)
    w_k = attn.W_k.weight.view(heads, hd, r)
    fold = torch.einsum("nji,njh->inh", attn.W_q.weight.view(heads, hd, d), w_k).reshape(d, heads * r) * scale
    bias = torch.einsum("nj,njh->nh", attn.W_q.bias.view(heads, hd), w_k).reshape(heads * r) * scale
    return torch.addmm(bias, q, fold).view(-1, heads, r)


def folded_output(attn: CrossAttention, ctx: Tensor) -> Tensor:
    """concat_h((A_h S) W_v,h + b_v,h) W_o + b_o (B, d) from ctx = A S (B, heads, r), with the
    maps W_v,h W_o of every head as one (heads * r, d) matrix."""
    heads, hd, r, d = attn.heads, attn.hd, attn.r, attn.d
    w_o = attn.W_o.weight.view(d, heads, hd)
    fold = torch.einsum("njh,enj->nhe", attn.W_v.weight.view(heads, hd, r), w_o).reshape(heads * r, d)
    return torch.addmm(attn.W_o(attn.W_v.bias), ctx.reshape(len(ctx), heads * r), fold)


def length_buckets(
    sorted_lengths: list[int], max_buckets: int = 4, overhead: int = 4096, min_width: int = 16
) -> list[tuple[int, int, int]]:
    """(start, end, max length) of runs of ascending lengths that minimise the padded work.

    Attention over a bucket pads to the bucket's longest text; a bucket's cost is its rows
    times that length plus `overhead` (the fixed cost of one more set of kernels, in
    token-rows). Exact dynamic programming over the distinct lengths, at most `max_buckets`
    runs. ML-100K items (mean 16 tokens, max 32): about 40% fewer padded positions; users
    (11-12 tokens): one bucket. Buckets are at least `min_width` wide (padding, masked): torch's
    CPU softmax over fewer than 16 values takes about 10 times longer than over 16.
    """
    sorted_lengths = [max(min_width, x) for x in sorted_lengths]
    n = len(sorted_lengths)
    if n == 0:
        return []
    # Candidate cut points: where the length changes (a bucket never splits equal lengths).
    cuts = [0] + [k for k in range(1, n) if sorted_lengths[k] != sorted_lengths[k - 1]] + [n]
    m = len(cuts)
    inf = float("inf")
    # best[j][c]: least cost of cuts[0]..cuts[c] in j buckets; back-pointers in prev.
    best = [[inf] * m for _ in range(max_buckets + 1)]
    prev = [[-1] * m for _ in range(max_buckets + 1)]
    best[0][0] = 0.0
    for j in range(1, max_buckets + 1):
        for c in range(1, m):
            t = max(1, sorted_lengths[cuts[c] - 1])
            for a in range(c):
                cost = best[j - 1][a] + (cuts[c] - cuts[a]) * t + overhead
                if cost < best[j][c]:
                    best[j][c], prev[j][c] = cost, a
    j = min(range(1, max_buckets + 1), key=lambda k: best[k][m - 1])
    out, c = [], m - 1
    while j > 0:
        a = prev[j][c]
        out.append((cuts[a], cuts[c], max(1, int(sorted_lengths[cuts[c] - 1]))))
        c, j = a, j - 1
    return out[::-1]


class Permute(torch.autograd.Function):
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


def attend_buckets(attn: CrossAttention, query: Tensor, buckets: list[Bucket]) -> Tensor:
    """(n, d) `attn`'s fused vectors of every entity, query (n, d) in bucket order: the same
    result as `attn(query, S, m)` per bucket, with the projections done once where that is
    cheaper; only the products over tokens run per bucket."""
    sizes = [b - a for a, b, *_ in buckets]

    def context(qk: Tensor, states: Tensor, masked: Tensor, states_t: Tensor) -> Tensor:
        return torch.bmm(torch.softmax(torch.baddbmm(masked, qk, states_t), dim=-1), states)  # (n_b, heads, r)

    if attn.folded:
        # Folded maps are built once and the (n, heads * r <= d + r) keys and contexts are
        # narrow: project all entities at once, split the keys, join the contexts.
        qks = torch.split(attn.query_keys(query), sizes)
        ctx = torch.cat([context(qk, s, masked, s_t) for qk, (_, _, s, masked, s_t) in zip(qks, buckets)])
        return attn.output(query, ctx)
    # Per head, each bucket runs whole (projections, attention, output) on its split of the
    # queries and only the (n_b, d) outputs are joined: splitting or joining the wide
    # (n, heads, r) keys and contexts cost two 1.7 MB copies per tower and step (items, 4
    # heads at rank 64), and slicing them zero-filled a whole-size gradient per bucket.
    outs = [
        attn.output(q, context(attn.query_keys(q), s, masked, s_t))
        for q, (_, _, s, masked, s_t) in zip(torch.split(query, sizes), buckets)
    ]
    return outs[0] if len(outs) == 1 else torch.cat(outs)


def attends_all(model: GPT2RecommenderEnhanced, n_users: int, n_items: int) -> bool:
    """Whether a training step whose batch holds `n_users` users and `n_items` items attends
    over every entity (`fused_all`) rather than gathering the batch's: in cached mode, when the
    batch holds more than half of all entities."""
    return not model.dynamic and 2 * (n_users + n_items) > model.n_users + model.n_items


def fused_all(tower: AttentionTower, keep: Tensor) -> Tensor:
    """(n, d) `tower`'s text-part vectors f of every entity from the cached features, as its
    `represent` computes them; `keep` (n,) bool: which ids use their own ID row. Attention runs
    over the cache's length buckets (contiguous copies, no gather): with most entities in every
    batch this is cheaper than gathering the batch's states, and it builds the scoring tables."""
    q = tower.ids.every(keep, detach_rows=not tower.query_grad)  # (n, d)
    text = tower.text
    if text is None:
        return q
    if not tower.use_attention:
        t = tower.project_cached()  # (n, d)
        return tower.fusion(q + t if tower.text_residual else t)
    attn = cast("CrossAttention", tower.fusion)
    fused = attend_buckets(attn, Permute.apply(q, text.order, text.inverse), text.all_cached())
    return Permute.apply(fused, text.inverse, text.order)


def encode_in_buckets(text: TextSide, encoder: TextEncoder, idx: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """`text.dynamic(encoder, idx)` in length buckets: the top blocks run on each bucket padded
    to its own longest text rather than the batch's (ML-100K items: 16 tokens on average, 32 at
    most, so about 40% of a step's block work was padding). Padded positions are masked in the
    blocks' attention, so real tokens get the same states (to float rounding); the buckets'
    outputs are put back in `idx` order, padded to the longest text with zeros."""
    lengths = text.mask[idx].sum(1)
    order = torch.sort(lengths, stable=True).indices
    # A bucket costs its rows times its length plus a fixed 512 token-rows (one more pass of
    # the blocks' kernels), at most 3 buckets; 8 tokens at least.
    buckets = length_buckets(lengths[order].tolist(), max_buckets=3, overhead=512, min_width=8)
    if len(buckets) <= 1:
        return text.dynamic(encoder, idx)
    parts = [text.dynamic(encoder, idx[order[a:b]]) for a, b, _ in buckets]
    width = max(part[0].shape[1] for part in parts)
    states = torch.cat([F.pad(part[0], (0, 0, 0, width - part[0].shape[1])) for part in parts])
    mask = torch.cat([F.pad(part[1], (0, width - part[1].shape[1])) for part in parts])
    pooled = torch.cat([part[2] for part in parts])
    back = torch.argsort(order)
    return states[back], mask[back], pooled[back]


class FrozenTextView:
    """`proj(pooled[rows])` for frozen `pooled` (n, H) vectors, `proj` = LayerNorm, Linear, ...

    The LayerNorm's normalisation of frozen vectors never changes: it is done once (and redone
    only when `pooled` is another tensor), and its affine part is folded into the next linear
    layer, (x_hat * g + b) W^T + c = x_hat (W * g)^T + (W b + c), so a step pays one product and
    no gradient with respect to its (n, H) input (scheme 1: a third of its products)."""

    def __init__(self) -> None:
        self._hat: tuple[Tensor, Tensor] | None = None  # (pooled, its normalisation)

    def __call__(self, proj: nn.Module, pooled: Tensor, rows: Tensor | None) -> Tensor:
        parts = list(proj) if isinstance(proj, nn.Sequential) else []
        if len(parts) < 2 or not isinstance(parts[0], nn.LayerNorm) or not isinstance(parts[1], nn.Linear):
            return proj(pooled if rows is None else pooled[rows])
        norm, linear = parts[0], parts[1]
        if self._hat is None or self._hat[0] is not pooled:
            # Built outside inference mode even when first asked for inside it (a warm start
            # validates before its first step): backward cannot save an inference tensor.
            with torch.inference_mode(False), torch.no_grad():
                self._hat = (pooled, F.layer_norm(pooled, norm.normalized_shape, eps=norm.eps))
        x = self._hat[1] if rows is None else self._hat[1][rows]
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
