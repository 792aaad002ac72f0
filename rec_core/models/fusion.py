"""Cross-attention fusion of an ID embedding (query) with metadata token states (keys, values).

The attention weights are computed explicitly (no fused kernel) because the app draws them.
Keys and values are linear in the token states, so instead of projecting every token to
`embed_dim` we fold the key projection into the query (`q_h W_k,h^T`, a vector per head)
and the value projection after the weighted sum: the same result with far fewer
multiply-adds (measured: 2.3 s against 8 s per ML-100K epoch with one big key/value GEMM).
With many heads at a high rank the per-head maps run as products batched over the heads (the
folded matrices are four times the work at four heads and rank 64; `folded` picks the cheaper),
and over length buckets every bucket runs whole so that only (n, d) outputs
are joined (issue 25; bench/README.md has the profiles).

Shapes: B entities, T tokens, d = `embed_dim`, r = `text_dim`, the size of a token state
(in the Enhanced model the backbone's states reduced by a fixed PCA to `text_rank`).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["CrossAttentionFusion", "UniformDropout", "uniform_dropout"]


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


class CrossAttentionFusion(nn.Module):
    """Multi-head cross-attention: ID query over token states, then residual + LayerNorm.

    In the enhanced model this output is the *text part* of the score only; the ID (MF) part
    is added outside it, so this LayerNorm never rescales the ID path.
    """

    def __init__(
        self, embed_dim: int, text_dim: int, n_heads: int, dropout: float = 0.0, residual: bool = True
    ) -> None:
        super().__init__()
        self.residual = residual  # LayerNorm(query + attention); False: LayerNorm(attention)
        if embed_dim % n_heads:
            raise ValueError("embed_dim must be divisible by n_heads")
        self.embed_dim, self.text_dim, self.n_heads = embed_dim, text_dim, n_heads
        self.head_dim = embed_dim // n_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        # A key bias adds the same logit to every token of a head: softmax ignores it, so none.
        self.k_proj = nn.Linear(text_dim, embed_dim, bias=False)
        self.v_proj = nn.Linear(text_dim, embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)
        self.norm = nn.LayerNorm(embed_dim)
        self.dropout = nn.Dropout(dropout)

    @property
    def folded(self) -> bool:
        """Whether the query/key (and value/output) maps run as one (d, heads * r) matrix each
        rather than a (d, d) product plus a per-head (head_dim, r) one: whichever takes fewer
        multiply-adds per entity, d * heads * r against d * d + d * r. Four heads at rank 64
        (d = 64): per head (16,384 against 8,192); two heads at rank 32: folded (4,096 against
        6,144)."""
        return self.n_heads * self.text_dim <= self.embed_dim + self.text_dim

    def _query_keys(self, query: Tensor) -> Tensor:
        """(B, heads, r): each head's query mapped through its key projection and scaled by
        1/sqrt(head_dim), so that a logit is one dot product with a token state."""
        nh, hd, r, d = self.n_heads, self.head_dim, self.text_dim, self.embed_dim
        scale = 1.0 / math.sqrt(hd)
        w_k = self.k_proj.weight.view(nh, hd, r)
        if self.folded:
            # One (d, heads * r) matrix per call (a few hundred thousand multiply-adds); the
            # batch pays one contiguous GEMM.
            w_q = self.q_proj.weight.view(nh, hd, d)
            fold = torch.einsum("nji,njh->inh", w_q, w_k).reshape(d, nh * r) * scale
            bias = torch.einsum("nj,njh->nh", self.q_proj.bias.view(nh, hd), w_k).reshape(nh * r) * scale
            return torch.addmm(bias, query, fold).view(-1, nh, r)
        q = self.q_proj(query) * scale  # (B, d)
        # Head-major copies: a product over the strided (heads, B, .) view ran at half speed.
        return torch.bmm(q.view(-1, nh, hd).transpose(0, 1).contiguous(), w_k).transpose(0, 1)  # (B, nh, r)

    def attention(self, query: Tensor, states: Tensor, mask: Tensor, states_t: Tensor | None = None) -> Tensor:
        """Weights (B, heads, T); each row sums to 1 over unmasked tokens.

        query (B, d) ID embeddings; states (B, T, r) token states; mask (B, T) bool, True = token;
        `states_t`: optionally the same states as a contiguous (B, r, T) tensor (about twice
        as fast a product as the transposed view).
        """
        # States arrive normalised (TextSide.reduce): a trainable LayerNorm over every token of
        # every batch entity was most of an epoch's time, for no measurable gain.
        masked = (
            torch.zeros(mask.shape, dtype=states.dtype, device=states.device)
            .masked_fill_(~mask, float("-inf"))
            .unsqueeze(1)
        )  # (B, 1, T): 0 on tokens, -inf on padding
        keys = states.transpose(1, 2) if states_t is None else states_t
        logits = torch.baddbmm(masked, self._query_keys(query), keys)  # (B, nh, T)
        return torch.softmax(logits, dim=-1)

    def _output(self, query: Tensor, ctx: Tensor) -> Tensor:
        """LayerNorm([query +] dropout(out_proj(v_proj(ctx)))), ctx (B, heads, r) per head.

        Head h's value projection is its own (head_dim, r) block of `v_proj`: per head, one
        product batched over the heads; folded (`folded`), the value and output projections as
        one (heads * r, d) matrix.
        """
        nh, hd, r, d = self.n_heads, self.head_dim, self.text_dim, self.embed_dim
        if self.folded:
            w_o = self.out_proj.weight.view(d, nh, hd)
            fold = torch.einsum("njh,enj->nhe", self.v_proj.weight.view(nh, hd, r), w_o).reshape(nh * r, d)
            out = torch.addmm(self.out_proj(self.v_proj.bias), ctx.reshape(len(query), nh * r), fold)
        else:
            w_v = self.v_proj.weight.view(nh, hd, r).transpose(1, 2)  # (nh, r, hd)
            # The value bias passes through the weighted sum unchanged (weights sum to 1).
            values = torch.bmm(ctx.transpose(0, 1).contiguous(), w_v).transpose(0, 1).reshape(len(query), nh * hd)
            out = self.out_proj(values + self.v_proj.bias)
        out = uniform_dropout(out, self.dropout.p, self.training)
        return self.norm(query + out if self.residual else out)

    def forward(
        self, query: Tensor, states: Tensor, mask: Tensor, states_t: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Fused embeddings (B, d) and the attention weights (B, heads, T)."""
        attn = self.attention(query, states, mask, states_t)
        # Dropout acts on the attention output, not on the (B, heads, T) weights: drawing a
        # mask over every token of every entity was a sixth of a cached epoch.
        return self._output(query, torch.bmm(attn, states)), attn

    def forward_buckets(self, query: Tensor, buckets: list[tuple[int, int, Tensor, Tensor, Tensor]]) -> Tensor:
        """Fused embeddings (n, d) of entities whose token states come in length buckets.

        query (n, d) in bucket order; each bucket is (start, end, states (n_b, T_b, r),
        additive mask (n_b, 1, T_b) with 0 on tokens and -inf on padding, states transposed
        (n_b, r, T_b)). The same result as `forward` per bucket, with the projections done once
        for all entities: only the products over tokens run per bucket.
        """
        sizes = [b - a for a, b, *_ in buckets]
        if self.folded:
            # Folded maps are built once and the (n, heads * r <= d + r) keys and contexts are
            # narrow: project all entities at once, split the keys, join the contexts.
            qks = torch.split(self._query_keys(query), sizes)
            ctx = torch.cat(
                [
                    torch.bmm(torch.softmax(torch.baddbmm(masked, qk, states_t), dim=-1), states)
                    for qk, (_, _, states, masked, states_t) in zip(qks, buckets)
                ]
            )
            return self._output(query, ctx)
        # Per head, each bucket runs whole (projections, attention, output) on its split of the
        # queries and only the (n_b, d) outputs are joined: splitting or joining the wide
        # (n, heads, r) keys and contexts cost two 1.7 MB copies per tower and step (items, 4
        # heads at rank 64), and slicing them zero-filled a whole-size gradient per bucket.
        outs = [
            self._output(
                q, torch.bmm(torch.softmax(torch.baddbmm(masked, self._query_keys(q), states_t), dim=-1), states)
            )
            for q, (_, _, states, masked, states_t) in zip(torch.split(query, sizes), buckets)
        ]
        return outs[0] if len(outs) == 1 else torch.cat(outs)
