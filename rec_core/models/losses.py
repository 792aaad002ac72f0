"""Loss functions shared by the models: BPR and symmetric InfoNCE."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["bpr_loss", "info_nce"]


def bpr_loss(pos_scores: Tensor, neg_scores: Tensor) -> Tensor:
    """Mean of -log sigmoid(pos - neg) over the batch (Rendle et al. 2009); inputs (B,)."""
    return -F.logsigmoid(pos_scores - neg_scores).mean()


def info_nce(a: Tensor, b: Tensor, temperature: float) -> Tensor:
    """Symmetric InfoNCE between two views, row i of `a` paired with row i of `b`; (N, d) each.

    As open_clip's ClipLoss: cosine logits / temperature, cross-entropy both ways, averaged.
    """
    a = F.normalize(a, dim=-1)
    b = F.normalize(b, dim=-1)
    logits = a @ b.T / temperature  # (N, N)
    labels = torch.arange(len(a), device=a.device)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
