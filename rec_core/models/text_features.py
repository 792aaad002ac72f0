"""Pieces the text-aware models share: ID embeddings with a neutral row, and text features.

`IdEmbedding` gives ids never seen in training (and, while training, a random `id_dropout`
share of the batch, as DropoutNet, NeurIPS 2017) one learned neutral vector, so that the
model learns to score from text alone and a cold id never scores with random noise.
`TextSide` holds one entity type's encoded texts as buffers left out of checkpoints.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rec_core.configs.model import check_mf_part as check_mf_part
from rec_core.data.interactions import TextTable
from rec_core.models.fast_paths import length_buckets
from rec_core.text import EncodedTexts, FeatureCache, TextEncoder
from rec_core.text.encoder import EncodeProgress
from rec_core.text.tokens import content_mask

__all__ = ["IdEmbedding", "TextSide", "check_mf_part", "encode_table", "text_side"]


class IdEmbedding(nn.Module):
    """Embedding table plus one learned neutral vector for unseen or dropped ids."""

    def __init__(self, n: int, dim: int, init_std: float, id_dropout: float) -> None:
        super().__init__()
        self.table = nn.Embedding(n, dim)
        self.neutral = nn.Parameter(torch.zeros(dim))
        nn.init.normal_(self.table.weight, std=init_std)
        self.id_dropout = id_dropout

    def keep(self, idx: Tensor, seen: Tensor) -> Tensor:
        """(B,) bool: which of `idx` use their own row (seen in training and, while training,
        not dropped); the others take the neutral path."""
        keep = seen[idx]
        if self.training and self.id_dropout > 0:
            keep = keep & (torch.rand(idx.shape, device=idx.device) >= self.id_dropout)
        return keep

    def forward(self, idx: Tensor, seen: Tensor, keep: Tensor | None = None, *, detach_rows: bool = False) -> Tensor:
        """(B, d) embeddings of `idx` (B,); `seen` is the (n,) bool mask of training ids.

        `keep` (from `self.keep`) lets a caller use the same dropout draw elsewhere (the text
        models drop an id from their MF part and their text query together). `detach_rows`:
        no gradient reaches the table rows through this use (the neutral vector still learns)."""
        if keep is None:
            keep = self.keep(idx, seen)
        rows = self.table(idx)
        return torch.where(
            keep.unsqueeze(-1), rows.detach() if detach_rows else rows, self.neutral.expand(len(idx), -1)
        )

    def every(self, keep: Tensor, *, detach_rows: bool = False) -> Tensor:
        """(n, d) `forward` of every id in id order, `keep` (n,) bool: the table itself, no
        gather (scoring and steps that touch most ids)."""
        rows = self.table.weight.detach() if detach_rows else self.table.weight
        return torch.where(keep.unsqueeze(1), rows, self.neutral)

    def raw(self, idx: Tensor) -> Tensor:
        """(B, d) the table rows themselves (the ID view for contrastive learning)."""
        return self.table(idx)


def encode_table(
    encoder: TextEncoder,
    table: TextTable,
    keep_layer_input: int | None,
    cache: FeatureCache | None = None,
    *,
    keep_states: bool = True,
    progress: EncodeProgress | None = None,
) -> tuple[EncodedTexts, bool]:
    """Frozen features of every text in `table` (through the on-disk cache); (features, hit).
    `progress(done, total)` hears how many texts are encoded (nothing on a cache hit).

    `keep_states=False` keeps only pooled vectors: a model that never attends over tokens
    loads a few hundred KB instead of every token state.
    """
    cache = cache if cache is not None else FeatureCache()
    # mapped: token states stay in the cache file (float16 as stored); `TextSide` reduces them
    # a block of rows at a time, so a large catalogue's states are never held in memory.
    enc, hit = cache.get_or_encode(
        encoder,
        list(table.texts),
        keep_states=keep_states,
        keep_layer_input=keep_layer_input,
        progress=progress,
        mapped=True,
    )
    return enc.trimmed(), hit


# Token states up to this size (as float32) are reduced in one piece, exactly as before blocks
# existed (ML-100K's items with MiniLM are about 165 MB); larger ones in blocks of `_BLOCK_BYTES`.
_WHOLE_BYTES = 256 << 20
_BLOCK_BYTES = 32 << 20


def _row_blocks(states: Tensor) -> list[tuple[int, int]]:
    """(start, end) row ranges to process `states` (N, T, H) in: one range when its float32
    size is at most `_WHOLE_BYTES` (so results are exactly those of one piece), else blocks
    of about `_BLOCK_BYTES` (the states may be a memory map of the cache file in float16)."""
    n = int(states.shape[0])
    row = states[0].numel() * 4 if n else 0
    if n * row <= _WHOLE_BYTES:
        return [(0, n)]
    size = max(1, _BLOCK_BYTES // row)
    return [(a, min(n, a + size)) for a in range(0, n, size)]


def _principal_axes(states: Tensor, mask: Tensor, rank: int) -> tuple[Tensor, Tensor]:
    """Mean (H,) and top-`rank` principal axes (H, rank) of the real tokens' normalised states.

    Signs are fixed (largest component positive) so the same features give the same axes.
    Large states are read in blocks of rows (two passes: mean, then covariance in float64).
    """
    h = states.shape[-1:]
    blocks = _row_blocks(states)
    if len(blocks) == 1:
        x = F.layer_norm(states.float()[mask], h)  # (n_tokens, H)
        mean = x.mean(0)
        xc = (x - mean).double()
        cov = xc.T @ xc
    else:
        total, count = torch.zeros(h, dtype=torch.float64), 0
        for a, b in blocks:
            x = F.layer_norm(states[a:b].float()[mask[a:b]], h)
            total += x.sum(0, dtype=torch.float64)
            count += len(x)
        mean = (total / max(1, count)).float()
        cov = torch.zeros(h[0], h[0], dtype=torch.float64)
        for a, b in blocks:
            xc = (F.layer_norm(states[a:b].float()[mask[a:b]], h) - mean).double()
            cov += xc.T @ xc
    _, vecs = torch.linalg.eigh(cov)  # ascending eigenvalues
    axes = vecs[:, -rank:].flip(1)
    signs = torch.sign(axes.gather(0, axes.abs().argmax(0, keepdim=True)))
    return mean, (axes * signs).float()


class TextSide(nn.Module):
    """Encoded texts of one entity type, ready for attention.

    Token states are layer-normalised and reduced by a fixed PCA to `rank` dimensions (the
    leading principal axes of this side's cached states). The map is linear, so keys and
    values stay linear projections of the backbone's states, and dynamic mode applies the same
    map with gradients flowing through it. It makes each attention step about H / rank times
    cheaper than attending over H-dimensional states (MiniLM: 384 -> 64).

    The map is fitted on every entity when built, then again by `fit` on the entities with
    training interactions only (the model's `prepare`): a `cold-items` split's held-out items
    must not shape the features they are scored with. Feature buffers are non-persistent
    (rebuilt from the cache, never saved); the PCA mean and axes are persistent so that a
    reloaded model uses exactly the same map. The full token
    states are not held: `_states` is what the cache gave, a memory map of its file (float16),
    read again a block of rows at a time by `refresh` after a checkpoint load.
    """

    # Buffers (register_buffer in __init__), declared for the type checker: nn.Module's
    # attribute lookup would type them `Tensor | Module`.
    pca_mean: Tensor  # (H,)
    pca_axes: Tensor  # (H, rank)
    mask: Tensor  # (n, T) bool, True on real tokens
    pooled: Tensor  # (n, H)
    layer_in: Tensor | None  # (n, T, H) input of the top blocks (dynamic mode); None if not kept
    reduced: Tensor  # (n, T, rank) the reduced cached states
    order: Tensor  # (n,) entities by token count
    inverse: Tensor  # (n,) position of each entity in `order`

    def __init__(self, enc: EncodedTexts, rank: int) -> None:
        super().__init__()
        h = enc.pooled.shape[-1]
        rank = min(rank, h)
        if enc.states is not None:
            mean, axes = _principal_axes(enc.states, enc.mask, rank)
        else:  # pooled only (no attention over tokens): an unused identity-like map
            mean, axes = torch.zeros(h), torch.eye(h)[:, :rank]
        self.register_buffer("pca_mean", mean)
        self.register_buffer("pca_axes", axes)
        self.register_buffer("mask", enc.mask, persistent=False)
        # The attention keys' mask: every real token, or only content ones (`restrict_keys`).
        self.register_buffer("key_mask", enc.mask, persistent=False)
        self.register_buffer("pooled", enc.pooled, persistent=False)
        self.register_buffer("layer_in", enc.layer_states, persistent=False)
        # With states, `refresh` below fills the reduced buffers: no full-size placeholder first.
        empty = enc.states is not None
        self.register_buffer(
            "reduced", torch.zeros(0) if empty else torch.zeros(*enc.mask.shape, rank), persistent=False
        )
        self.top_layers = enc.top_layers
        self.rank = rank
        self._states = enc.states
        # Entities sorted by token count, and buckets of that order (start, end, max length).
        lengths = enc.mask.sum(1)
        order = torch.sort(lengths, stable=True).indices
        self.register_buffer("order", order, persistent=False)
        self.register_buffer("inverse", torch.argsort(order), persistent=False)
        # Only attention over cached token states uses buckets (none without states).
        self.buckets = length_buckets(lengths[order].tolist()) if enc.states is not None else []
        for k, (a, b, t) in enumerate(self.buckets):
            mask = torch.zeros(b - a, t, dtype=torch.bool)
            w = min(t, enc.mask.shape[1])
            mask[:, :w] = enc.mask[order[a:b], :w]
            self.register_buffer(f"bucket_mask_{k}", mask, persistent=False)
            self.register_buffer(f"bucket_states_{k}", torch.zeros(0), persistent=False)  # set by refresh
            self.register_buffer(f"bucket_states_t_{k}", torch.zeros(0), persistent=False)
            self.register_buffer(f"bucket_masked_{k}", torch.zeros(0), persistent=False)
        if enc.states is not None:
            self.refresh(enc.states)

    def restrict_keys(self, content: Tensor) -> None:
        """Attention keys only on `content` tokens ((n, T) bool, `tokens.content_mask`): the
        mask the fusion gets (`cached`, `dynamic`, the buckets) becomes mask & content; the
        backbone's own attention in dynamic mode keeps every real token."""
        self.key_mask = self.mask & content[:, : self.mask.shape[1]].to(self.mask.device)
        for k, (a, b, t) in enumerate(self.buckets):
            mask = torch.zeros(b - a, t, dtype=torch.bool, device=self.mask.device)
            w = min(t, self.mask.shape[1])
            mask[:, :w] = self.key_mask[self.order[a:b], :w]
            setattr(self, f"bucket_mask_{k}", mask)
        if self._states is not None:
            self.refresh(self._states)

    def reduce(self, states: Tensor) -> Tensor:
        """(B, T, H) backbone states -> (B, T, rank) normalised, centred, projected."""
        x = F.layer_norm(states, states.shape[-1:])
        return (x - self.pca_mean) @ self.pca_axes

    @torch.no_grad()
    def fit(self, rows: Tensor) -> None:
        """Refit the PCA map on the entities `rows` ((n,) bool: those with training
        interactions) and recompute the reduced states; nothing changes when every entity is
        in `rows` (the map was fitted on all of them) or none is."""
        rows = rows.cpu()
        if self._states is None or bool(rows.all()) or not bool(rows.any()):
            return
        mean, axes = _principal_axes(self._states, self.mask.cpu() & rows.unsqueeze(1), self.rank)
        self.pca_mean.copy_(mean)
        self.pca_axes.copy_(axes)
        self.refresh(self._states)

    @torch.no_grad()
    def refresh(self, states: Tensor | None) -> None:
        """Recompute the reduced cached states (after the PCA buffers were loaded).

        `states` (N, T, H) may be float16 and memory-mapped: it is read a block of rows at a
        time and only a reference is kept (for the next refresh), never a float32 copy."""
        if states is None:
            return
        blocks = _row_blocks(states)
        device = self.pca_mean.device  # the states stay on the CPU; the model may be on a GPU
        if len(blocks) == 1:
            self.reduced = self.reduce(states.float().to(device)) * self.mask.unsqueeze(-1)
        else:
            self.reduced = torch.empty(*states.shape[:2], self.rank, device=device)
            for a, b in blocks:
                self.reduced[a:b] = self.reduce(states[a:b].float().to(device)) * self.mask[a:b].unsqueeze(-1)
        self._states = states  # kept for refresh after a checkpoint load
        # The same states ordered by text length and cut into length buckets, each its own
        # contiguous tensor trimmed to its longest text: attention over every entity at once
        # with no gather and little padding (`all_cached`).
        for k, (a, b, t) in enumerate(self.buckets):
            bucket = self.reduced.new_zeros(b - a, t, self.rank)
            w = min(t, self.reduced.shape[1])
            bucket[:, :w] = self.reduced[self.order[a:b], :w]
            setattr(self, f"bucket_states_{k}", bucket)
            setattr(self, f"bucket_states_t_{k}", bucket.transpose(1, 2).contiguous())
            mask = getattr(self, f"bucket_mask_{k}")
            setattr(
                self, f"bucket_masked_{k}", bucket.new_zeros(mask.shape).masked_fill_(~mask, float("-inf")).unsqueeze(1)
            )

    @property
    def n(self) -> int:
        return int(self.mask.shape[0])

    def cached(self, idx: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(reduced states (B, T, r), mask (B, T), pooled (B, H)) from the frozen features.

        T is the longest text of `idx`: columns past it are padding for every row.
        """
        mask = self.mask[idx]
        t = max(1, int(mask.sum(1).max())) if len(idx) else 1
        return self.reduced[idx, :t], self.key_mask[idx, :t], self.pooled[idx]

    def all_cached(self) -> list[tuple[int, int, Tensor, Tensor, Tensor]]:
        """Every entity's reduced states in length order, as buckets (start, end, states
        (n_b, T_b, r), additive mask (n_b, 1, T_b): 0 on tokens and -inf on padding, states
        transposed (n_b, r, T_b)) of positions in `order`; all contiguous, for
        `fast_paths.attend_buckets`."""
        return [
            (
                a,
                b,
                getattr(self, f"bucket_states_{k}"),
                getattr(self, f"bucket_masked_{k}"),
                getattr(self, f"bucket_states_t_{k}"),
            )
            for k, (a, b, _) in enumerate(self.buckets)
        ]

    def dynamic(self, encoder: TextEncoder, idx: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The same, recomputing the top blocks from `layer_in` (gradients if enabled).

        Only the texts' real length is run: columns past the longest text of the batch are
        padding for every row and are cut before the blocks.
        """
        if self.layer_in is None or self.top_layers is None:
            raise RuntimeError("dynamic encoding needs features kept with keep_layer_input")
        mask = self.mask[idx]
        t = max(1, int(mask.sum(1).max()))
        mask = mask[:, :t]
        # layer_in may be the cache file's float16 memory map: only this batch's rows are cast.
        states = encoder.run_top_layers(self.layer_in[idx, :t].float(), mask.long(), self.top_layers)
        reduced = self.reduce(states) * mask.unsqueeze(-1)  # padded positions carry no signal
        return reduced, self.key_mask[idx, :t], encoder.pool(states, mask.long())


def text_side(encoder: TextEncoder, table: TextTable, c: Any) -> tuple[TextSide, bool]:
    """(The `TextSide` of `table`'s texts for an Enhanced config `c`, whether the feature cache
    had them). Token states are kept only for attention (and the PCA map dynamic mode reuses);
    with `content_keys`, attention keys are restricted to tokens of field values."""
    keep = c.dynamic_layers if c.trainable_backbone else None
    enc, hit = encode_table(encoder, table, keep, keep_states=c.use_attention or c.trainable_backbone)
    text = TextSide(enc, c.text_rank)
    if c.content_keys and c.use_attention:
        text.restrict_keys(content_mask(encoder, table, text.mask.shape[1]))
    return text, hit
