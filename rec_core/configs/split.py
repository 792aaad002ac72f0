"""`SplitConfig`: how interactions are split into train, valid and test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from rec_core.errors import ConfigError

__all__ = ["SPLIT_KINDS", "SplitConfig", "SplitKind"]

SplitKind = Literal["ratio", "loo", "cold-items"]
SPLIT_KINDS: tuple[str, ...] = ("ratio", "loo", "cold-items")


@dataclass(frozen=True)
class SplitConfig:
    kind: SplitKind = "ratio"  # ratio: per-user random; loo: per-user by time; cold-items
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)  # train/valid/test (ratio split)
    cold_fraction: float = 0.2  # cold-items: share of items held out of train entirely
    cold_valid_share: float = 0.5  # cold-items: share of held-out items whose rows go to valid
    # cold-items in k item folds: the items are partitioned into `folds` folds by the seed and
    # fold `fold`'s items are the held-out ones (each item cold exactly once per seed over the
    # folds; cold_fraction unused). None (both): one random cold_fraction of the items, as always.
    folds: int | None = None
    fold: int | None = None
    seed: int = 0  # same seed + same data -> same split

    def __post_init__(self) -> None:
        if self.kind not in SPLIT_KINDS:
            raise ConfigError("split", f"unknown split {self.kind!r}; allowed: {', '.join(SPLIT_KINDS)}")
        if len(self.ratios) != 3 or any(not np.isfinite(r) or r < 0 for r in self.ratios):
            raise ConfigError("split_ratios", "three non-negative fractions train,valid,test are required")
        if abs(sum(self.ratios) - 1.0) > 1e-6:
            raise ConfigError("split_ratios", f"fractions must sum to 1, got {sum(self.ratios):.4g}")
        if self.ratios[0] <= 0:
            raise ConfigError("split_ratios", "the train fraction must be > 0")
        if not 0.0 < self.cold_fraction < 1.0:
            raise ConfigError("cold_fraction", f"must be in (0, 1), got {self.cold_fraction}")
        if not 0.0 < self.cold_valid_share < 1.0:
            raise ConfigError("cold_valid_share", f"must be in (0, 1), got {self.cold_valid_share}")
        if self.folds is None:
            if self.fold is not None:
                raise ConfigError("fold", f"a fold ({self.fold}) needs folds, the number of item folds (--folds K)")
        else:
            if self.kind != "cold-items":
                raise ConfigError("folds", f"item folds apply to the cold-items split only, not {self.kind!r}")
            if self.folds < 2:
                raise ConfigError("folds", f"must be >= 2 (k item folds), got {self.folds}")
            if self.fold is None or not 0 <= self.fold < self.folds:
                raise ConfigError(
                    "fold", f"must be one of 0..{self.folds - 1} with folds {self.folds}, got {self.fold}"
                )
