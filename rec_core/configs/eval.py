"""`EvalConfig`: which cutoffs and metrics evaluation reports, and its memory bound."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rec_core.errors import ConfigError

__all__ = ["METRIC_NAMES", "EvalConfig"]

# The metrics `rec_core.evaluate.metrics` computes, in its order (it checks the two agree).
METRIC_NAMES: tuple[str, ...] = ("hit", "ndcg", "recall", "mrr", "precision")


@dataclass(frozen=True)
class EvalConfig:
    """What `evaluate` reports: cutoffs, metrics, and how many users it scores at once."""

    ks: tuple[int, ...] = (5, 10, 20)  # cutoffs K; each must be > 0
    chunk_size: int = 2048  # users scored at once (at most); memory is about chunk_size x n_items floats
    memory_mb: float = 1024.0  # bound on one chunk's scores and temporaries: large catalogues get smaller chunks
    metrics: tuple[str, ...] = METRIC_NAMES  # any of hit, ndcg, recall, mrr, precision

    def __post_init__(self) -> None:
        ks = tuple(self.ks)
        if not ks or any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0 for k in ks):
            raise ConfigError("ks", f"cutoffs must be a non-empty list of integers > 0, got {list(ks)}")
        # Frozen, so normalise through object.__setattr__: a list would make the config unhashable.
        object.__setattr__(self, "ks", tuple(int(k) for k in ks))
        if (
            isinstance(self.chunk_size, bool)
            or not isinstance(self.chunk_size, (int, np.integer))
            or self.chunk_size <= 0
        ):
            raise ConfigError("chunk_size", f"must be an integer > 0, got {self.chunk_size!r}")
        if not (
            isinstance(self.memory_mb, (int, float))
            and not isinstance(self.memory_mb, bool)
            and math.isfinite(self.memory_mb)
            and self.memory_mb > 0
        ):
            raise ConfigError("memory_mb", f"must be a number of megabytes > 0, got {self.memory_mb!r}")
        metrics = tuple(self.metrics)
        unknown = [m for m in metrics if m not in METRIC_NAMES]
        if not metrics or unknown:
            raise ConfigError("metrics", f"unknown or no metrics {unknown}; allowed: {', '.join(METRIC_NAMES)}")
        object.__setattr__(self, "metrics", metrics)
