"""A run's progress while it executes (`rec_core.experiment.execute_run`): each trained epoch
appended to history.jsonl, and status.json's `progress` kept current (epochs, steps inside a
long epoch, texts encoded) with rates and the seconds left, written at most every
STEP_STATUS_S so a page polling the run sees life without the run spending its time writing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rec_core.runs import Run
from rec_core.text.encoder import EncodeProgress
from rec_core.train import Trainer

__all__ = ["STEP_STATUS_S", "ProgressFn", "encode_reporter", "follow_training"]

STEP_STATUS_S = 1.0  # status.json gets a running epoch's step progress at most this often

ProgressFn = Callable[[dict[str, Any]], None]


def follow_training(trainer: Trainer, run: Run, emit: ProgressFn, live: dict[str, Any], epochs: int) -> dict[str, Any]:
    """Callbacks that append each epoch to history.jsonl and keep status.json's progress (the
    epoch, and steps inside a long one) and `live` current; returns the progress shown."""
    shown: dict[str, Any] = {"epoch": 0, "epochs": epochs}  # the progress status.json holds

    def on_epoch(tr: Trainer, record: dict[str, Any]) -> None:
        live.update(epoch=tr.epoch, best_epoch=tr.best_epoch, best_phase=tr.best_phase)
        run.append_history(record)
        shown.clear()
        shown.update(
            epoch=tr.epoch, epochs=epochs, best_epoch=tr.best_epoch, training_phase=tr.phase, best_phase=tr.best_phase
        )
        run.set_status(phase="training", progress=dict(shown))
        emit({"event": "epoch", **record, "epochs": epochs})

    clock: dict[str, Any] = {}

    def on_step(tr: Trainer, info: dict[str, Any]) -> None:
        emit({"event": "step", **info, "epochs": epochs})
        # Step progress in status.json, so a page shows life inside a long epoch: the first step
        # of each epoch, then at most every STEP_STATUS_S, with the rate since that first step.
        now = time.perf_counter()
        step = {"step": info["step"], "steps": info["steps"], "step_epoch": info["epoch"]}
        if info["step"] == 1 or clock.get("epoch") != info["epoch"]:
            clock.update(epoch=info["epoch"], first=now, written=now)
        elif now - clock["written"] >= STEP_STATUS_S:
            clock["written"] = now
            rate = (info["step"] - 1) / max(now - clock["first"], 1e-9)
            step.update(steps_per_s=round(rate, 4), epoch_eta_s=round((info["steps"] - info["step"]) / rate, 1))
        else:
            return
        run.set_status(phase="training", progress={**shown, **step})

    trainer.add_callback("on_epoch_end", on_epoch)
    trainer.add_callback("on_step_end", on_step)
    return shown


def encode_reporter(run: Run, emit: ProgressFn) -> EncodeProgress:
    """Text encoding progress (`TextEncoder.encode`'s callback) to the progress listener (an
    "encode" event per batch) and to status.json: texts done of the total, from the second
    report on the rate since the pass began and the seconds left; at most every
    STEP_STATUS_S, and always at a pass's start and end."""
    clock: dict[str, float] = {}

    def report(done: int, total: int) -> None:
        emit({"event": "encode", "done": done, "total": total})
        now = time.perf_counter()
        if done == 0 or "first" not in clock:
            clock.update(first=now, written=now)
        elif done < total and now - clock["written"] < STEP_STATUS_S:
            return
        clock["written"] = now
        shown: dict[str, Any] = {"texts": done, "texts_total": total}
        if done > 0 and now > clock["first"]:
            rate = done / (now - clock["first"])
            shown.update(texts_per_s=round(rate, 3), encode_eta_s=round((total - done) / rate, 1))
        run.set_status(phase="encoding text", progress=shown)

    return report
