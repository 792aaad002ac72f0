"""Validation search for models fitted in closed form (EASE, ItemKNN): no epochs, a small grid.

A closed-form model declares its candidates with `hyper_grid()` (a list of {name: value}) and
fits one with `fit_hyper(values)`. The trainer's non-trainable branch calls
`select_on_validation`: every candidate is fitted and validated on the validation split (the
monitor metric), the best is kept (ties: the earlier candidate), and the search is recorded in
the model (`model.selection`, shown in results' model_info) and as one history record per
candidate. A one-candidate grid is fitted and validated once: no search. Models without a grid
(Popularity) are validated once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

__all__ = ["select_on_validation"]


def select_on_validation(
    model: Any, validate: Callable[[], dict[str, float]], monitor: str, on_record: Callable[[dict[str, Any]], None]
) -> float:
    """Fit and validate each candidate of `model.hyper_grid()`, keep the best; its score.

    `on_record` receives one history record per candidate (epoch 0: no gradient epoch ran).
    Called again after a finished search (a second `fit`), it returns the chosen score.
    """
    grid_of = getattr(model, "hyper_grid", None)
    if grid_of is None:
        return validate().get(monitor, math.nan)
    if model.selection is not None:
        best_score = model.selection["best_score"]
        return math.nan if best_score is None else float(best_score)
    grid: list[dict[str, float]] = grid_of()
    scores: list[float] = []
    for i, values in enumerate(grid):
        fit_s = model.fit_hyper(values)
        t = time.perf_counter()
        valid = validate()
        score = valid.get(monitor, math.nan)
        scores.append(score)
        on_record(
            {
                "epoch": 0,
                "loss": {},
                "seconds": fit_s,
                "valid": valid,
                "eval_seconds": time.perf_counter() - t,
                "best_epoch": 0,
                "candidate": dict(values),
                "candidate_index": i + 1,
                "n_candidates": len(grid),
            }
        )
    # NaN (a validation part without users) never wins; all NaN keeps the first candidate.
    finite = [s if math.isfinite(s) else -math.inf for s in scores]
    best = max(range(len(grid)), key=lambda j: (finite[j], -j))
    model.fit_hyper(grid[best])
    model.selection = {
        "monitor": monitor,
        "grid": [{**values, monitor: (s if math.isfinite(s) else None)} for values, s in zip(grid, scores)],
        "chosen": dict(grid[best]),
        "best_score": scores[best] if math.isfinite(scores[best]) else None,  # JSON has no NaN
        "searched": len(grid) > 1,
    }
    release = getattr(model, "release_statistics", None)
    if release is not None:
        release()
    return scores[best]
