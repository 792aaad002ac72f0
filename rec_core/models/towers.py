"""Two-tower text models: a user tower and an item tower, scored as MF part + gated text part.

A tower is one side (users or items) of a text model: its ID embedding, its text and the
fusion of the two into the vectors of the score's text part. Both text models are

    score(u, i) = <e_u, e_i> + b_i                      the MF part, exactly as models/mf.py
                + <t_u, gate * t_i>                     the gated text part

with e the towers' ID table rows (0 for unseen ids), b an item bias and t a tower's fused
vector (the Enhanced model scales t_u by 1/sqrt(d)). `TwoTowerRecommender` holds the two
towers, the bias and the gate, scores from tables of every user and item built once per
scoring pass and warm-starts the MF part from an MF run. (Checkpoints written before the towers
existed are converted once on loading: models/legacy.py.)
"""

from __future__ import annotations

from typing import Generic, Literal, NotRequired, Protocol, TypedDict, TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rec_core.models.base import Recommender
from rec_core.models.mf import mf_full_scores, mf_pair_scores, seen_rows
from rec_core.models.text_features import IdEmbedding

__all__ = ["ConcatTower", "Encoded", "ScoringTables", "Side", "Tower", "TwoTowerRecommender", "linear_of_concat"]

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
        `Tower.keep`."""
        q = self.ids(idx, seen, keep)
        if self.fusion is None or self.meta is None:
            return q
        return linear_of_concat(self.fusion, q, self.meta[idx])


def linear_of_concat(fusion: nn.Linear, q: Tensor, z: Tensor) -> Tensor:
    """`fusion(torch.cat([q, z], -1))` (B, d) for q (B, d) and a frozen z (B, H), as
    W_q q + (W_z z + b) with W = [W_q, W_z]: the same product without building the (B, d + H)
    concatenation, and backward skips the gradient with respect to z, a (B, d) x (d, d + H)
    product wasted on a frozen input (Enhanced `--preset cold`, which scores every entity
    every step: a tenth of its epoch). GPT2Recommender and the Enhanced model's `PooledPart`
    both compute it this way, so that one contains the other to the last bit."""
    d = q.shape[1]
    weight = fusion.weight
    return torch.addmm(F.linear(z, weight[:, d:], fusion.bias), q, weight[:, :d].t())


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


class TwoTowerRecommender(Recommender, Generic[TowerT]):
    """Base of the text models: `user_tower` and `item_tower` (set by the subclass after it
    built their parts), the MF part's item `bias` and the text part's `gate` (d,).

    Subclasses implement `loss`, `_tables` (once per scoring pass: `scoring_table`) and the
    embedding views; scoring and the warm start are here.
    """

    user_tower: TowerT
    item_tower: TowerT
    bias: nn.Parameter | None

    def __init__(self, n_users: int, n_items: int, config: TwoTowerConfig) -> None:
        super().__init__(n_users, n_items)
        # Neither draws from the RNG: built here, before the towers' parts (whose order does).
        # MF part's item bias, zero-initialised as in MF.
        self.bias = nn.Parameter(torch.zeros(n_items)) if config.item_bias else None
        # Gate of the text part, one weight per dimension of the fused vectors.
        self.gate = nn.Parameter(torch.full((config.embed_dim,), float(config.gate_init)))
        self.warm_started = False  # `load_id_weights` copied an MF run's weights in

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
