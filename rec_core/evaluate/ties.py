"""What full-ranking evaluation keeps of each chunk of masked scores, exact under ties
(`rec_core.evaluate.ranking`): for every ground-truth item how many ranked items score above it
and how many tie with it, the expected coverage per cutoff, and mid-ranks; merged across
processes under torchrun."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from rec_core import distributed

if TYPE_CHECKING:
    from rec_core.evaluate.ranking import RankingTask

__all__ = ["TieStats", "mid_ranks"]


class TieStats:
    """What evaluation keeps of each chunk of masked scores: for every ground-truth item, how
    many ranked items score above it and how many tie with it (exact within the top K_max;
    an item below the list gets above >= K_max and counts at no cutoff), per-item expected
    coverage, and mid-ranks."""

    def __init__(self, task: RankingTask, ks: tuple[int, ...], with_ranks: bool) -> None:
        self.task, self.ks, self.with_ranks = task, ks, with_ranks
        self.starts: list[int] = []  # first user of each chunk added, in the order added
        self.above: list[np.ndarray] = []
        self.tied: list[np.ndarray] = []
        self.ranks: list[np.ndarray] = []
        # Per cutoff: items certainly in some user's top k, and the sum over users of
        # log P(not in this user's top k) for items that may enter it only by a tie.
        self.covered = {k: torch.zeros(task.n_items, dtype=torch.bool) for k in ks}
        self.log_miss = {k: torch.zeros(task.n_items, dtype=torch.float64) for k in ks}

    def add_chunk(self, scores: Tensor, a: int, b: int, k_list: int) -> None:
        task = self.task
        vals, idx = torch.topk(scores, k_list, dim=1, largest=True, sorted=True)  # (B, k) desc
        glo, ghi = task.gt_ptr[a], task.gt_ptr[b]
        g_pos = (task.gt_pos[glo:ghi] - a).to(scores.device)
        x = scores[g_pos, task.gt_items[glo:ghi].to(scores.device)]  # (G,) ground-truth scores
        row_vals = vals[g_pos]  # (G, k)
        kth = vals[:, -1]
        # Everything scoring above the list's last value is inside the list, so for an item at
        # or above that value the counts within the list are exact.
        above = (row_vals > x[:, None]).sum(1)
        tied = (row_vals == x[:, None]).sum(1)
        at_kth = x == kth[g_pos]
        if bool(at_kth.any()):  # the group at the list's edge continues outside the list
            n_kth = (scores == kth[:, None]).sum(1)
            tied = torch.where(at_kth, n_kth[g_pos], tied)
        self.starts.append(a)
        self.above.append(above.cpu().numpy())
        self.tied.append(tied.clamp(min=1).cpu().numpy())  # below the list: size irrelevant
        self._add_coverage(scores, vals, idx)
        if self.with_ranks:
            self.ranks.append(mid_ranks(scores, g_pos, x))

    def gather(self) -> None:
        """Merge every rank's chunks (torch.distributed): per-item lists in user order,
        coverage OR-ed and summed. Every rank ends with the statistics of all users."""
        mine = (
            self.starts,
            self.above,
            self.tied,
            self.ranks,
            {k: v.numpy() for k, v in self.covered.items()},
            {k: v.numpy() for k, v in self.log_miss.items()},
        )
        parts = distributed.all_gather_objects(mine)
        chunks = sorted(
            (start, above, tied, ranks[i] if ranks else None)
            for starts, aboves, tieds, ranks, _, _ in parts
            for i, (start, above, tied) in enumerate(zip(starts, aboves, tieds))
        )
        self.starts = [c[0] for c in chunks]
        self.above, self.tied = [c[1] for c in chunks], [c[2] for c in chunks]
        self.ranks = [c[3] for c in chunks if c[3] is not None]
        for k in self.ks:
            self.covered[k] = torch.from_numpy(np.logical_or.reduce([p[4][k] for p in parts]))
            self.log_miss[k] = torch.from_numpy(np.sum([p[5][k] for p in parts], axis=0))

    def _add_coverage(self, scores: Tensor, vals: Tensor, idx: Tensor) -> None:
        k_list = vals.shape[1]
        n_last_total: Tensor | None = None
        for k in self.ks:
            kk = min(k, k_list)
            v_k = vals[:, kk - 1]  # (B,) the k-th value of each row
            # Rows whose k-th place is a tie that continues past it: which tied items make the
            # list is random. Elsewhere the top k items are certain (most rows of most models).
            if kk < k_list:
                cut = vals[:, kk] == v_k
            else:
                if n_last_total is None:
                    n_last_total = (scores == vals[:, -1:]).sum(1)
                cut = n_last_total > (vals == vals[:, -1:]).sum(1)
            cut &= v_k > -math.inf  # a -inf k-th value: the list is shorter than k, nothing tied
            plain = ~cut
            top, top_vals = idx[plain, :kk], vals[plain, :kk]
            self.covered[k][top[top_vals > -math.inf].cpu()] = True
            if bool(cut.any()):
                rows = cut.nonzero().squeeze(1)
                row_scores, v = scores[rows], v_k[rows, None]
                sure, eq = row_scores > v, row_scores == v
                p_in = (kk - sure.sum(1, keepdim=True)).to(torch.float64) / eq.sum(1, keepdim=True)  # < 1
                self.covered[k] |= sure.any(0).cpu()
                self.log_miss[k] += (eq.to(torch.float64) * torch.log1p(-p_in)).sum(0).cpu()

    def coverage(self) -> dict[str, float]:
        """Expected share of candidates in at least one user's top k (ties drawn per user)."""
        out = {}
        n_cand = max(1, self.task.n_candidates)
        for k in self.ks:
            seen = torch.where(self.covered[k], torch.ones_like(self.log_miss[k]), -torch.expm1(self.log_miss[k]))
            out[f"coverage@{k}"] = float(seen.sum()) / n_cand
        return out


def mid_ranks(scores: Tensor, rows: Tensor, x: Tensor, block: int = 4096) -> np.ndarray:
    """Expected 1-based rank of items scoring `x` in `rows` of masked `scores` under random
    tie-breaking: 1 + (items above) + (other items tied) / 2; whole when nothing ties."""
    out = []
    for s in range(0, len(rows), block):
        row_scores = scores[rows[s : s + block]]  # (block, n_items); blocks bound the memory
        v = x[s : s + block, None]
        above = (row_scores > v).sum(1).to(torch.float64)
        tied = (row_scores == v).sum(1).to(torch.float64)
        out.append((1.0 + above + (tied - 1.0) / 2.0).cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)
