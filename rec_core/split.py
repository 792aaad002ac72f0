"""Deterministic train/valid/test splits: `ratio`, `loo` and `cold-items` (PROTOCOL.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from rec_core.configs.split import SPLIT_KINDS, SplitConfig
from rec_core.configs.split import SplitKind as SplitKind
from rec_core.data.interactions import InteractionData
from rec_core.errors import DataError

__all__ = ["SplitConfig", "Split", "make_split", "SPLIT_KINDS"]


@dataclass(frozen=True, eq=False)
class Split:
    """Row indices into an `InteractionData`'s interaction arrays, one array per part.

    Candidates are None when every item is ranked; in `cold-items` valid and test each have
    their own held-out items, and the primary ranking of a part is among those items only
    (the new-item shelf); the all-item ranking is reported beside it.
    """

    config: SplitConfig
    train: np.ndarray  # (n_train,) int64 row indices
    valid: np.ndarray  # (n_valid,) int64
    test: np.ndarray  # (n_test,) int64
    valid_candidates: np.ndarray | None = None  # cold-items: item indices held out for valid
    test_candidates: np.ndarray | None = None  # cold-items: item indices held out for test
    notes: tuple[str, ...] = field(default=())

    def candidates(self, part: Literal["valid", "test"]) -> np.ndarray | None:
        """Item indices ranked in the primary ranking of `part` (None: all items)."""
        return self.valid_candidates if part == "valid" else self.test_candidates

    def describe(self) -> dict[str, object]:
        """The recorded parameters and part sizes, for run records."""
        c = self.config
        d: dict[str, object] = {
            "kind": c.kind,
            "seed": c.seed,
            "n_train": int(len(self.train)),
            "n_valid": int(len(self.valid)),
            "n_test": int(len(self.test)),
        }
        if c.kind == "ratio":
            d["ratios"] = list(c.ratios)
        if c.kind == "cold-items":
            if c.folds is None:
                d["cold_fraction"] = c.cold_fraction
            else:
                d["folds"], d["fold"] = c.folds, c.fold
            d["cold_valid_share"] = c.cold_valid_share
            d["n_cold_valid_items"] = int(len(self.valid_candidates if self.valid_candidates is not None else ()))
            d["n_cold_test_items"] = int(len(self.test_candidates if self.test_candidates is not None else ()))
        return d


def make_split(data: InteractionData, config: SplitConfig) -> Split:
    """Split `data` as `config` says; deterministic given `config.seed`."""
    if data.n_interactions == 0:
        raise DataError("interactions", "the interaction table is empty; nothing to split")
    rng = np.random.default_rng(config.seed)
    if config.kind == "ratio":
        return _ratio(data, config, rng)
    if config.kind == "loo":
        return _loo(data, config)
    return _cold_items(data, config, rng)


def _ratio(data: InteractionData, config: SplitConfig, rng: np.random.Generator) -> Split:
    # Per user: shuffle that user's rows, then cut at floor-rounded boundaries the way RecBole
    # does (train gets the remainder), so users with few rows keep at least one train row.
    n = data.n_interactions
    keys = rng.random(n)
    order = np.lexsort((keys, data.users))  # by user, random within user
    counts = np.bincount(data.users, minlength=data.n_users)
    starts = np.concatenate([[0], np.cumsum(counts)])[:-1]
    pos = np.arange(n) - np.repeat(starts, counts)  # position within the user's block
    cnt = np.repeat(counts, counts).astype(np.float64)
    r_tr, r_va, r_te = config.ratios
    # RecBole's _calcu_split_ids: valid/test get int(ratio * n), train the rest; a part whose
    # ratio * n lies in (0, 1) still gets one row, taken from train while train keeps > 1.
    n_va = np.floor(cnt * r_va).astype(np.int64)
    n_te = np.floor(cnt * r_te).astype(np.int64)
    n_tr = cnt.astype(np.int64) - n_va - n_te
    for n_part, r in ((n_te, r_te), (n_va, r_va)):
        bump = (n_tr > 1) & (cnt * r > 0) & (cnt * r < 1)
        n_part += bump
        n_tr -= bump
    part = np.where(pos < n_tr, 0, np.where(pos < n_tr + n_va, 1, 2))
    rows = order
    notes: tuple[str, ...] = ()
    n_small = int(((counts > 0) & (counts < 3)).sum())
    if n_small:
        notes = (f"{n_small} users with fewer than 3 interactions cannot have both valid and test items",)
    if not (part == 2).any():
        raise DataError("split", "no user has enough interactions for a test item")
    return Split(
        config,
        np.sort(rows[part == 0]),
        np.sort(rows[part == 1]),
        np.sort(rows[part == 2]),
        notes=notes,
    )


def _loo(data: InteractionData, config: SplitConfig) -> Split:
    # Per user by time (ties broken by row order): last -> test, second last -> valid.
    order = np.lexsort((np.arange(data.n_interactions), data.timestamps, data.users))
    counts = np.bincount(data.users, minlength=data.n_users)
    ends = np.cumsum(counts)
    eligible = counts >= 3
    if not eligible.any():
        raise DataError("split", "leave-one-out needs users with >= 3 interactions; none has")
    test_pos = ends[eligible] - 1
    valid_pos = ends[eligible] - 2
    part = np.zeros(data.n_interactions, dtype=np.int8)
    part[test_pos] = 2
    part[valid_pos] = 1
    notes: tuple[str, ...] = ()
    n_small = int(((counts > 0) & ~eligible).sum())
    if n_small:
        notes = (f"{n_small} users with fewer than 3 interactions kept in train only",)
    return Split(
        config,
        np.sort(order[part == 0]),
        np.sort(order[part == 1]),
        np.sort(order[part == 2]),
        notes=notes,
    )


def _cold_items(data: InteractionData, config: SplitConfig, rng: np.random.Generator) -> Split:
    # Strict item cold start: a random fraction of the items that occur in the data is held out
    # entirely; each held-out item's rows all go to valid or all to test, so the model selected
    # on valid is tested on items it has never seen at all. With k folds, the same seeded
    # permutation is cut into k near-equal folds (np.array_split) and fold i is held out: the k
    # splits of one seed hold out every item exactly once.
    present = np.unique(data.items)
    if config.folds is None:
        n_cold = int(round(len(present) * config.cold_fraction))
        source = f"from {len(present)} items x cold_fraction {config.cold_fraction}"
    else:
        n_cold = len(present) // config.folds  # the smallest fold's size
        source = f"in the smallest of {config.folds} folds of {len(present)} items"
    if n_cold < 2:
        raise DataError("split", f"cold-items needs at least 2 held-out items; got {n_cold} {source}")
    order = rng.permutation(present)
    if config.folds is None:
        cold = order[:n_cold]  # the first draw of the seed's generator: today's splits, bit for bit
    else:
        assert config.fold is not None  # SplitConfig checks it with folds
        cold = np.array_split(order, config.folds)[config.fold]
        n_cold = len(cold)
    n_valid_items = max(1, int(round(n_cold * config.cold_valid_share)))
    valid_items = np.zeros(data.n_items, dtype=bool)
    valid_items[cold[:n_valid_items]] = True
    test_items = np.zeros(data.n_items, dtype=bool)
    test_items[cold[n_valid_items:]] = True
    rows = np.arange(data.n_interactions)
    is_valid = valid_items[data.items]
    is_test = test_items[data.items]
    train = rows[~(is_valid | is_test)]
    if len(train) == 0:
        raise DataError("split", "cold-items left no training interactions")
    return Split(
        config,
        train,
        rows[is_valid],
        rows[is_test],
        np.sort(cold[:n_valid_items]),
        np.sort(cold[n_valid_items:]),
    )
