"""Pieces the text-aware models share: ID embeddings with a neutral row, and text features.

`IdEmbedding` gives ids never seen in training (and, while training, a random `id_dropout`
share of the batch, as DropoutNet, NeurIPS 2017) one learned neutral vector, so that the
model learns to score from text alone and a cold id never scores with random noise.
`TextSide` holds one entity type's encoded texts as buffers left out of checkpoints.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rec_core.data.interactions import TextTable
from rec_core.text import EncodedTexts, FeatureCache, TextEncoder

__all__ = ["IdEmbedding", "TextSide", "encode_table"]


class IdEmbedding(nn.Module):
    """Embedding table plus one learned neutral vector for unseen or dropped ids."""

    def __init__(self, n: int, dim: int, init_std: float, id_dropout: float) -> None:
        super().__init__()
        self.table = nn.Embedding(n, dim)
        self.neutral = nn.Parameter(torch.zeros(dim))
        nn.init.normal_(self.table.weight, std=init_std)
        self.id_dropout = id_dropout

    def forward(self, idx: Tensor, seen: Tensor) -> Tensor:
        """(B, d) embeddings of `idx` (B,); `seen` is the (n,) bool mask of training ids."""
        keep = seen[idx]
        if self.training and self.id_dropout > 0:
            keep = keep & (torch.rand(idx.shape, device=idx.device) >= self.id_dropout)
        return torch.where(keep.unsqueeze(-1), self.table(idx), self.neutral.expand(len(idx), -1))

    def raw(self, idx: Tensor) -> Tensor:
        """(B, d) the table rows themselves (the ID view for contrastive learning)."""
        return self.table(idx)


def encode_table(encoder: TextEncoder, table: TextTable, keep_layer_input: int | None,
                 cache: FeatureCache | None = None, *, keep_states: bool = True) -> tuple[EncodedTexts, bool]:
    """Frozen features of every text in `table` (through the on-disk cache); (features, hit).

    `keep_states=False` keeps only pooled vectors: a model that never attends over tokens
    loads a few hundred KB instead of every token state.
    """
    cache = cache if cache is not None else FeatureCache()
    enc, hit = cache.get_or_encode(encoder, list(table.texts), keep_states=keep_states,
                                   keep_layer_input=keep_layer_input)
    return enc.trimmed(), hit


def _principal_axes(states: Tensor, mask: Tensor, rank: int) -> tuple[Tensor, Tensor]:
    """Mean (H,) and top-`rank` principal axes (H, rank) of the real tokens' normalised states.

    Signs are fixed (largest component positive) so the same features give the same axes.
    """
    x = F.layer_norm(states[mask], states.shape[-1:])  # (n_tokens, H)
    mean = x.mean(0)
    xc = (x - mean).double()
    _, vecs = torch.linalg.eigh(xc.T @ xc)  # ascending eigenvalues
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

    Feature buffers are non-persistent (rebuilt from the cache, never saved); the PCA mean and
    axes are persistent so that a reloaded model uses exactly the same map.
    """

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
        self.register_buffer("pooled", enc.pooled, persistent=False)
        self.register_buffer("layer_in", enc.layer_states, persistent=False)
        self.register_buffer("reduced", torch.zeros(*enc.mask.shape, rank), persistent=False)
        self.top_layers = enc.top_layers
        self.rank = rank
        self._states = enc.states
        if enc.states is not None:
            self.refresh(enc.states)

    def reduce(self, states: Tensor) -> Tensor:
        """(B, T, H) backbone states -> (B, T, rank) normalised, centred, projected."""
        x = F.layer_norm(states, states.shape[-1:])
        return (x - self.pca_mean) @ self.pca_axes

    @torch.no_grad()
    def refresh(self, states: Tensor | None) -> None:
        """Recompute the reduced cached states (after the PCA buffers were loaded)."""
        if states is None:
            return
        self.reduced = self.reduce(states) * self.mask.unsqueeze(-1)
        self._states = states  # kept for refresh after a checkpoint load

    @property
    def n(self) -> int:
        return int(self.mask.shape[0])

    def cached(self, idx: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(reduced states (B, T, r), mask (B, T), pooled (B, H)) from the frozen features."""
        return self.reduced[idx], self.mask[idx], self.pooled[idx]

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
        states = encoder.run_top_layers(self.layer_in[idx, :t], mask.long(), self.top_layers)
        reduced = self.reduce(states) * mask.unsqueeze(-1)  # padded positions carry no signal
        return reduced, mask, encoder.pool(states, mask.long())
