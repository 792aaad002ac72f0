"""One training run end to end: data -> split -> model -> fit -> test -> run store.

`RunConfig` is everything that defines a run; `execute_run` carries it out inside a run
folder, recording progress as it goes so that a page (or another process) can follow it.
"""

from __future__ import annotations

import os
import time
import traceback
from typing import Any

import numpy as np

from rec_core import distributed, pipeline, run_progress
from rec_core.configs.run import RunConfig
from rec_core.data import load_dataset
from rec_core.data.interactions import InteractionData
from rec_core.errors import ConfigError, RecCoreError
from rec_core.memory_check import check_memory, memory_estimate
from rec_core.models.base import Recommender
from rec_core.models.registry import MODELS, build_model
from rec_core.run_progress import ProgressFn
from rec_core.run_signals import RunInterrupted, SignalGuard
from rec_core.runs import Run, RunStore, environment_info
from rec_core.runs.attempt import begin_attempt, end_attempt, previous_note
from rec_core.runs.load import LoadSampler
from rec_core.runs.record import SCHEMA_VERSION
from rec_core.runs.ranks import RankRun
from rec_core.runs.store import sweep_stale_tmp, utc_now
from rec_core.runs.summary import completion_summary
from rec_core.pipeline import prepare_data, seed_everything
from rec_core.split import Split
from rec_core.text.encoder import encoding_progress
from rec_core.train import Trainer
from rec_core.train.phase_ablation import earlier_phases_alone
from rec_core.train.trainer import resolve_device
from rec_core.warm_start import check_warm_start, warm_start_record

__all__ = [
    "CheckpointMismatch",
    "RunConfig",
    "RunInterrupted",
    "execute_run",
    "start_run",
    "load_run_model",
    "seed_everything",
    "prepare_data",
    "check_memory",
    "memory_estimate",
]


def start_run(
    config: RunConfig, store: RunStore, run_id: str | None = None, data: InteractionData | None = None
) -> Run:
    """Create the run folder (queued) for `config`; nothing is trained yet.

    Refused before any folder exists: a device this machine lacks (`--device cuda` without
    CUDA), a bad `init_from_run` (its checkpoint included), or a model whose parameters and
    optimiser state cannot fit in memory (`check_memory`, with the dataset's size from
    `data`, else from the config when it is known without loading).
    """
    resolve_device(config.train.device)  # ConfigError("device", ...) when it is absent here
    check_warm_start(config, store)  # a bad `init_from_run` leaves no run folder behind
    if data is not None:
        check_memory(config, data.n_users, data.n_items)
    else:
        from rec_core.data.sizes import dataset_size

        size = dataset_size(config.to_dict().get("data") or {})
        if size is not None:
            check_memory(config, size.n_users, size.n_items)
    # This process owns the run until it starts it (or the queue takes it over): if it dies first,
    # the run reads as failed, never queued forever.
    return store.create(config.to_dict(), run_id=run_id, prefix=config.run_prefix(), owner_pid=os.getpid())


def execute_run(
    run: Run,
    progress: ProgressFn | None = None,
    *,
    data: InteractionData | None = None,
    split: Split | None = None,
) -> dict[str, Any]:
    """Carry out a created run; returns its results. Status ends done, stopped or failed.

    `data` and `split` may be passed when the caller already prepared them from the same
    config (the CLI does, to reject bad data before creating the folder).

    Exceptions are recorded in the run's status (error text) and re-raised so a CLI can exit
    non-zero; the run folder is never left saying `running`. An earlier attempt's outputs are
    set aside first (`rec_core.runs.attempt.begin_attempt`: complete results wait in previous/
    until this attempt's are complete), once the config has been read: a config that cannot
    be read loses nothing.
    """
    emit = progress or (lambda info: None)
    t_start = time.perf_counter()
    main = not isinstance(run, RankRun)  # torchrun: rank 0 writes the folder, the others only compute
    run.reserve_failure_note()  # room to record a failure even if the disk fills up later
    live: dict[str, Any] = {}  # the trainer's epoch / best so far, for the status of a run that ends early
    guard = SignalGuard(live)
    try:
        # Inside the try: a status.json that cannot be written (a full disk) is recorded as this
        # run's failure (failure.json) instead of leaving it queued.
        run.set_status(
            "running",
            pid=os.getpid(),
            phase="loading data",
            phase_started_at=utc_now(),
            completion=None,
            stop_signal=None,
        )
        config = RunConfig.from_dict(run.config())
        if main:  # an earlier attempt's results would make this one read as complete if it is killed
            begin_attempt(run)
        with guard:
            results = _execute(run, config, emit, t_start, data, split, live, guard)
        if main:
            end_attempt(run)
    except KeyboardInterrupt as exc:
        _record_interrupt(run, exc, live)
        raise
    except BaseException as exc:  # every failure must reach the run's status (a Rust panic is no Exception)
        if isinstance(exc, (SystemExit, GeneratorExit)):
            raise
        msg = str(exc) if isinstance(exc, RecCoreError) else f"{type(exc).__name__}: {exc}"
        world = distributed.current()[1]
        if world > 1:  # a peer that failed first breaks this rank's next collective operation
            msg += f" (one of {world} processes; if another rank failed first, its output has the cause)"
        msg += previous_note(run)
        _record_end(
            run,
            exc,
            "failed",
            phase="failed",
            error=msg,
            traceback=traceback.format_exc(limit=20),
            completion=_live_completion("failed", "error", live),
        )
        raise
    finally:
        if main:  # another rank must not remove the files rank 0 is writing
            sweep_stale_tmp(run.path, recursive=True)
    return results


def _record_interrupt(run: Run, exc: KeyboardInterrupt, live: dict[str, Any]) -> None:
    """Record a run stopped by a signal or Ctrl-C: what it had reached and saved."""
    if isinstance(exc, RunInterrupted):
        error = exc.describe(live, _saved_files(run))
    else:
        error = "interrupted (Ctrl-C) before the run finished; nothing saved"
    _record_end(
        run,
        exc,
        "stopped",
        phase="interrupted",
        error=error + previous_note(run),
        completion=_live_completion("stopped", "interrupted", live),
        stop_signal=getattr(exc, "signal_name", None),
    )


def _saved_files(run: Run) -> list[str]:
    """The outputs this attempt has written so far (an earlier attempt's are in previous/)."""
    names = sorted(f"tables/{p.name}" for p in (run.path / "tables").glob("*.parquet"))
    return names + [n for n in ("model.safetensors", "results.json") if (run.path / n).is_file()]


def _record_end(run: Run, exc: BaseException, state: str, **fields: Any) -> None:
    """Write the final state of a run that ended by `exc`; never raises.

    If its results and files were complete already (the exception came after them), the
    run keeps the state they say. If status.json cannot be written (a full disk), the error
    goes into the space failure.json reserved at start, and `exc.status_note` says so.
    """
    try:
        results = run.results()
        completion = results.get("completion") if isinstance(results, dict) else None
        if (
            state == "failed"
            and isinstance(results, dict)
            and isinstance(completion, dict)
            and isinstance(results.get("files"), dict)
            and run.check_files(results) is None
        ):
            done = "stopped" if completion.get("state") == "stopped" else "done"
            run.set_status(
                done, phase=done, completion=completion, note=f"after its results were complete: {fields.get('error')}"
            )
            return
        run.set_status(state, **fields)
    except Exception as write_exc:  # noqa: BLE001 - the original exception is what matters
        cause = f"{type(write_exc).__name__}: {write_exc}"
        kept = run.record_failure_in_place(str(fields.get("error")), os.getpid())
        where = "recorded in failure.json" if kept else "not recorded anywhere: see this message"
        try:
            exc.status_note = f"status.json could not be written ({cause}); {where}"  # type: ignore[attr-defined]  # read back with getattr
        except AttributeError:
            pass


class CheckpointMismatch(RecCoreError, ValueError):
    """A run's checkpoint does not fit the model its config builds on the given data."""


def _live_completion(state: str, reason: str, live: dict[str, Any]) -> dict[str, Any]:
    """The completion record of a run that ended by an exception, from what training reached."""
    completion = {
        "state": state,
        "reason": reason,
        "epochs_completed": int(live.get("epoch", 0)),
        "best_epoch": int(live.get("best_epoch", 0)),
        "best_phase": live.get("best_phase"),
    }
    return {**completion, "summary": completion_summary(completion)}


def _execute(
    run: Run,
    config: RunConfig,
    emit: ProgressFn,
    t_start: float,
    data: InteractionData | None,
    split: Split | None,
    live: dict[str, Any],
    guard: SignalGuard,
) -> dict[str, Any]:
    """The pipeline's stages (`rec_core.pipeline`) in the run folder, with its status and
    progress kept up to date; returns the results written."""
    timings: dict[str, float] = {}
    machine = LoadSampler().start()  # other work's runnable threads meanwhile: estimates scale by them
    t = time.perf_counter()
    if data is None:
        data = pipeline.load_data(config)
    timings["load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    if split is None:
        split = pipeline.split_data(data, config)
    timings["split_s"] = time.perf_counter() - t
    pipeline.seed_everything(config.seed)
    phase = "encoding text" if MODELS[config.model.name][1].needs_data else "building model"
    guard.stage = phase
    check_memory(config, data.n_users, data.n_items)
    run.set_status(phase=phase, phase_started_at=utc_now())
    emit({"event": "phase", "phase": phase})
    t = time.perf_counter()
    with encoding_progress(run_progress.encode_reporter(run, emit)):  # texts encoded while the model is built
        model, warm_from = pipeline.build_run_model(config, data, RunStore(run.path.parent))
    timings["build_model_s"] = time.perf_counter() - t
    trainer = Trainer(model, data, split, config.train, config.eval)
    trainer.set_stop_check(lambda: guard.received is not None or run.stop_requested())
    shown = run_progress.follow_training(trainer, run, emit, live, config.train.epochs)
    run.set_status(phase="preparing model", phase_started_at=utc_now(), progress=dict(shown))
    emit({"event": "phase", "phase": "preparing model"})
    guard.stage, guard.training = "training", True
    fit = pipeline.fit_schedule(trainer, model, config)
    guard.stage, guard.training = "finishing", False
    timings["fit_s"] = fit["seconds"]
    timings.update(machine.finish())
    epoch_secs = [h["seconds"] for h in fit["history"] if h.get("phase") != "initial"]  # trained epochs only
    timings["epoch_s_mean"] = float(np.mean(epoch_secs)) if epoch_secs else 0.0
    signal_name, signal_rank = _stop_signal(guard.received)  # torchrun: which rank(s) it reached
    completion = pipeline.completion_record(trainer, model, fit, signal_name, signal_rank)
    base = {
        "run_id": run.run_id,
        "model": config.model.name,
        "dataset": data.summary(),
        "data_notes": list(data.notes),
        "split": split.describe(),
        "split_notes": list(split.notes),
    }
    record = {
        "best_epoch": trainer.best_epoch,
        "best_phase": trainer.best_phase,
        "phases": fit["phases"],
        "epochs_run": trainer.epoch,
        "stopped": fit["stopped"],
        "early_stopped": fit["early_stopped"],
        "completion": completion,
        "n_trainable_params": int(sum(p.numel() for p in model.parameters() if p.requires_grad)),
        "processes": distributed.current()[1],  # > 1: trained by torchrun's processes (each batch_size triples a step)
    }
    ended = _Ended(run, emit, t_start, timings, signal_name, completion)
    if completion["epochs_completed"] == 0 and completion["state"] == "stopped":
        # Stopped before a gradient-trained model completed one epoch: its weights are the
        # random init. No valid / test metrics, per-user tables or checkpoint that could pass
        # for a trained model; the run is not comparable.
        extra = {"environment": environment_info(str(trainer.device)), "model_info": model.describe(), "files": {}}
        return ended.finish({**base, **record}, extra, "stopped")
    return _test_and_finish(ended, config, data, split, trainer, model, fit, base, record, warm_from)


class _Ended:
    """What the end of a run writes: results.json (its timings' total closed now), then the
    final status, then the "done" event."""

    def __init__(
        self,
        run: Run,
        emit: ProgressFn,
        t_start: float,
        timings: dict[str, float],
        signal_name: str | None,
        completion: dict[str, Any],
    ) -> None:
        self.run, self.emit, self.t_start, self.timings = run, emit, t_start, timings
        self.signal_name, self.completion = signal_name, completion

    def finish(self, head: dict[str, Any], tail: dict[str, Any], state: str) -> dict[str, Any]:
        self.timings["total_s"] = time.perf_counter() - self.t_start
        results = {"schema_version": SCHEMA_VERSION, **head, "timings": self.timings, **tail}
        self.run.write_results(results)
        self.run.set_status(state, phase=state, completion=self.completion, stop_signal=self.signal_name)
        self.emit({"event": "done", "results": results})
        return results


def _test_and_finish(
    ended: _Ended,
    config: RunConfig,
    data: InteractionData,
    split: Split,
    trainer: Trainer,
    model: Recommender,
    fit: dict[str, Any],
    base: dict[str, Any],
    record: dict[str, Any],
    warm_from: str | None,
) -> dict[str, Any]:
    """Test the trained model, write its tables, checkpoint and results; the run ends done or stopped."""
    run = ended.run
    run.set_status(phase="testing", phase_started_at=utc_now())
    ended.emit({"event": "phase", "phase": "testing"})
    t = time.perf_counter()
    valid, test = pipeline.evaluate_run(model, data, split, config, trainer.device)
    ended.timings["test_s"] = time.perf_counter() - t
    written = pipeline.write_outputs(run, model, data, config, valid, test)
    # Multi-phase runs: each earlier phase's own best weights, valid and test, after the run's
    # own test (a recorded ablation; the restored weights were chosen on validation only).
    phase_alone = earlier_phases_alone(trainer, fit["setups"], fit["final_phase"], data, split, config.eval)
    head = {
        **base,
        "valid": {k: r.to_dict() for k, r in valid.items()},
        "test": {k: r.to_dict() for k, r in test.items()},
        **record,
        "phase_alone": phase_alone,  # {phase: {"epoch", "valid", "test", "note"}}; {} with one phase
    }
    store = RunStore(run.path.parent)
    tail = {
        "environment": environment_info(str(trainer.device)),
        "model_info": model.describe(),
        "warm_start_run": warm_from,  # the MF run whose ID weights started this one ("auto" resolved)
        "warm_start": warm_start_record(config, store, warm_from),  # that run's settings
        # Sizes and checksums of what was written, verified when listing (sizes) and loading.
        "files": run.file_manifest(written),
    }
    # results.json is written after every file it records, and the final state after it.
    return ended.finish(head, tail, "stopped" if ended.completion["state"] == "stopped" else "done")


def _stop_signal(received: str | None) -> tuple[str | None, int | None]:
    """The signal that stopped the run, and the rank it reached when it did not reach them all.

    Under torchrun a signal to the launcher reaches every rank; one sent to a single process
    (rank 1, say) stops every rank too (the trainer's stop is agreed across ranks), and rank 0,
    which records the run, must not take that for a user's stop request. Collective: every
    rank calls it once training has ended. One process: (received, None).
    """
    if distributed.current()[1] == 1:
        return received, None
    got = distributed.all_gather_objects(received)
    names = [(rank, name) for rank, name in enumerate(got) if name is not None]
    if not names:
        return None, None
    return names[0][1], (None if len(names) == len(got) else names[0][0])


def load_run_model(run: Run, data: InteractionData | None = None) -> tuple[Recommender, RunConfig]:
    """Rebuild a finished run's model from its config and checkpoint (scores identically)."""
    config = RunConfig.from_dict(run.config())
    if data is None:
        data = load_dataset(config.data)
    model = build_model(config.model, data)
    state, meta = run.load_checkpoint()
    for key, have in (("n_users", data.n_users), ("n_items", data.n_items)):
        if meta.get(key) not in (None, str(have)):
            raise ConfigError(
                "data",
                f"run {run.run_id}'s checkpoint was trained with {meta[key]} {key[2:]}, but "
                f"this data has {have}: load it with the data of its config",
            )
    try:
        model.load_checkpoint_state(state)
    except (RuntimeError, ValueError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointMismatch(
            f"run {run.run_id}'s checkpoint does not fit the model built from its config on "
            f"this data ({data.n_users} users, {data.n_items} items): it was trained on other "
            f"data or another model ({first[:200]})"
        ) from exc
    model.eval()
    return model, config
