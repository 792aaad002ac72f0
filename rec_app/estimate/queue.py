"""When runs will be done behind the queue, and when a launch must be confirmed first.

The queue is simulated (`schedule`): the runs ahead (what is left of the running ones,
`remaining_s`, from their own pace once they train; all of the queued ones) take the free slots
first, in FIFO order, then the runs being estimated; each run that waits for a slot also pays
the next warm worker's imports (`worker_starts`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from rec_app.estimate.costs import Estimate
from rec_app.runs.table import RunRow
from rec_core.runs.summary import parse_time

PACE_MIN_S = 3.0  # a running run is priced from its own pace once it trained this long (estimated seconds)


def worker_starts(
    queued: Sequence[float], mine: Sequence[float], free_slots: int, start_s: float
) -> tuple[list[float], list[float]]:
    """`queued` and `mine` (seconds of each run, in queue order) with the cost of the queue's
    warm worker: when it hands a run over while others wait, the queue starts the next worker,
    whose imports (about a fresh process start, `start_s`) share the cores with the run just
    handed over (an MF epoch of 0.1 s took 5 s beside them). So every run but the first
    `free_slots` (those that start at once, on a worker already waiting) costs `start_s` more."""
    runs = [float(s) + (start_s if k >= free_slots else 0.0) for k, s in enumerate([*queued, *mine])]
    return runs[: len(queued)], runs[len(queued) :]


def schedule(
    running_left: Sequence[float],
    queued: Sequence[float],
    mine: Sequence[float],
    parallel: int,
    *,
    running_slots: Sequence[int] | None = None,
    queued_slots: Sequence[int] | None = None,
    slots: int = 1,
) -> tuple[float, float]:
    """(seconds until the first of `mine` starts, seconds until the last of them ends) when
    `parallel` slots first finish the running runs (`running_left`: seconds each has left),
    then the queued ones in order, then `mine` in order.

    A run takes as many slots as it has processes (`running_slots`, `queued_slots`, `slots`
    for each of `mine`; 1 by default) and, as the queue does, starts in FIFO order once that
    many are free; one wider than `parallel` starts alone, when nothing else runs."""
    taken = [(float(s), n) for s, n in zip(running_left, running_slots or [1] * len(running_left))]
    jobs = [(float(s), n) for s, n in zip(queued, queued_slots or [1] * len(queued))]
    jobs += [(float(s), slots) for s in mine]
    now = 0.0
    starts, ends = [], []
    for k, (seconds, width) in enumerate(jobs):
        width = max(1, min(int(width), parallel))
        while True:  # FIFO: never before the run ahead of it started
            taken = [(end, n) for end, n in taken if end > now]
            if sum(n for _, n in taken) + width <= parallel:
                break
            now = min(end for end, _ in taken)
        taken.append((now + seconds, width))
        if k >= len(jobs) - len(mine):
            starts.append(now)
            ends.append(now + seconds)
    return (min(starts), max(ends)) if starts else (0.0, 0.0)


def trained_s(status: Mapping[str, Any], now: datetime | None = None) -> float | None:
    """Seconds a running run has spent on its training schedule, from its status.json (the
    phase start of "preparing model", which the training phase keeps); None before that."""
    began = parse_time(status.get("phase_started_at"))
    if began is None or status.get("phase") != "training":
        return None
    now = now or datetime.now(timezone.utc)
    return max(0.0, (now - began).total_seconds())


def remaining_s(row: RunRow, own: Estimate | None, trained: float | None = None) -> float | None:
    """Seconds a running run still needs: once it trains, its estimate's epochs left (each
    phase's own cost) plus testing, times its pace so far (`trained`, its seconds of training
    (`trained_s`; else its time less the estimate's start, loading and encoding), over those its
    estimate gave the epochs done, once they come to PACE_MIN_S: a busy machine shows there);
    without an estimate, its time so far scaled by the share of epochs left; before it trains,
    its estimate minus the time spent. None if unknown."""
    progress = row.progress or {}
    spent = row.duration_s or 0.0
    epochs = int(progress.get("epochs") or 0)
    steps = int(progress.get("steps") or 0)
    done = int(progress.get("epoch") or 0) + (int(progress.get("step") or 0) / steps if steps else 0.0)
    share = min(1.0, done / epochs) if epochs else 0.0
    if share > 0:
        if own is None:
            return max(0.0, spent / share - spent)
        if own.epoch_s:
            k = min(int(done), len(own.epoch_s))
            expected = sum(own.epoch_s[:k]) + (done - k) * (own.epoch_s[k] if k < len(own.epoch_s) else 0.0)
            if trained is None:
                trained = spent - sum(own.parts.get(p, 0.0) for p in ("startup", "loading", "encoding"))
            pace = trained / expected if expected >= PACE_MIN_S and trained > 0 else 1.0
            return (max(0.0, sum(own.epoch_s) - expected) + own.parts.get("testing", 0.0)) * pace
        fitting = own.parts.get("training", 0.0) + own.parts.get("evaluation", 0.0)
        return fitting * (1.0 - share) + own.parts.get("testing", 0.0)
    if own is None:
        return None
    return max(0.0, own.total_s - spent)


def confirm_over_s() -> float:
    """Runs estimated longer than this need an explicit confirmation ($REC_CORE_CONFIRM_OVER_S,
    default 30 min)."""
    try:
        return float(os.environ.get("REC_CORE_CONFIRM_OVER_S", "1800"))
    except ValueError:
        return 1800.0


def needs_confirmation(own_total_s: float | None, dataset: str, *, limit_s: float | None = None) -> str | None:
    """Why a launch must be confirmed first: "long" (the runs themselves, queue wait excluded,
    take longer than the limit), "unknown" (no estimate, on a dataset that is not a seconds-long
    synthetic one), or None."""
    limit = confirm_over_s() if limit_s is None else limit_s
    if own_total_s is None:
        return None if dataset == "synthetic" else "unknown"
    return "long" if own_total_s > limit else None
