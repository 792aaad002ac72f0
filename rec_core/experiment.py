"""One training run end to end: data -> split -> model -> fit -> test -> run store.

`RunConfig` is everything that defines a run; `execute_run` carries it out inside a run
folder, recording progress as it goes so that a page (or another process) can follow it.
"""

from __future__ import annotations

import math
import os
import random
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from rec_core import distributed
from rec_core.configs.run import RunConfig
from rec_core.data import load_dataset
from rec_core.data.interactions import InteractionData
from rec_core.errors import ConfigError, RecCoreError
from rec_core.evaluate import evaluate_all
from rec_core.memory_check import check_memory, memory_estimate
from rec_core.models.base import Recommender
from rec_core.models.registry import MODELS, build_model
from rec_core.run_signals import RunInterrupted, SignalGuard
from rec_core.runs import Run, RunStore, environment_info
from rec_core.runs.attempt import begin_attempt, end_attempt, previous_note
from rec_core.runs.load import LoadSampler
from rec_core.runs.ranks import RankRun
from rec_core.runs.store import sweep_stale_tmp, utc_now
from rec_core.runs.summary import completion_summary
from rec_core.split import Split, make_split
from rec_core.text.encoder import EncodeProgress, encoding_progress
from rec_core.train import Trainer
from rec_core.train.phase_ablation import earlier_phases_alone
from rec_core.train.trainer import resolve_device
from rec_core.warm_start import apply_warm_start, check_warm_start, warm_start_record

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


STEP_STATUS_S = 1.0  # status.json gets a running epoch's step progress at most this often


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so a CPU run is reproducible bit for bit."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def prepare_data(config: RunConfig) -> tuple[InteractionData, Split]:
    """Load the dataset and split it as the run says."""
    data = load_dataset(config.data)
    return data, make_split(data, config.split)


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


ProgressFn = Callable[[dict[str, Any]], None]


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
        completion = _live_completion("stopped", "interrupted", live)
        if isinstance(exc, RunInterrupted):
            error = exc.describe(live, _saved_files(run))
        else:
            error = "interrupted (Ctrl-C) before the run finished; nothing saved"
        error += previous_note(run)
        _record_end(
            run,
            exc,
            "stopped",
            phase="interrupted",
            error=error,
            completion=completion,
            stop_signal=getattr(exc, "signal_name", None),
        )
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
    timings: dict[str, float] = {}
    machine = LoadSampler().start()  # other work's runnable threads meanwhile: estimates scale by them
    t = time.perf_counter()
    if data is None:
        data = load_dataset(config.data)
    timings["load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    if split is None:
        split = make_split(data, config.split)
    timings["split_s"] = time.perf_counter() - t
    seed_everything(config.seed)
    phase = "encoding text" if MODELS[config.model.name][1].needs_data else "building model"
    guard.stage = phase
    check_memory(config, data.n_users, data.n_items)
    run.set_status(phase=phase, phase_started_at=utc_now())
    emit({"event": "phase", "phase": phase})
    t = time.perf_counter()
    with encoding_progress(_encode_reporter(run, emit)):  # texts encoded while the model is built
        model = build_model(config.model, data)
    warm_from = apply_warm_start(model, config, RunStore(run.path.parent))  # `init_from_run`: MF run's ID weights
    timings["build_model_s"] = time.perf_counter() - t
    trainer = Trainer(model, data, split, config.train, config.eval)
    trainer.set_stop_check(lambda: guard.received is not None or run.stop_requested())
    epochs = config.train.epochs

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
    run.set_status(phase="preparing model", phase_started_at=utc_now(), progress=dict(shown))
    emit({"event": "phase", "phase": "preparing model"})
    guard.stage, guard.training = "training", True
    fit = _fit_schedule(trainer, model, config)
    guard.stage, guard.training = "finishing", False
    timings["fit_s"] = fit["seconds"]
    timings.update(machine.finish())
    epoch_secs = [h["seconds"] for h in fit["history"] if h.get("phase") != "initial"]  # trained epochs only
    timings["epoch_s_mean"] = float(np.mean(epoch_secs)) if epoch_secs else 0.0
    signal_name, signal_rank = _stop_signal(guard.received)  # torchrun: which rank(s) it reached
    completion = _completion(trainer, model, fit, signal_name, signal_rank)
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
    if completion["epochs_completed"] == 0 and completion["state"] == "stopped":
        # Stopped before a gradient-trained model completed one epoch: its weights are the
        # random init. No valid / test metrics, per-user tables or checkpoint that could pass
        # for a trained model; the run is not comparable.
        timings["total_s"] = time.perf_counter() - t_start
        results = {
            **base,
            **record,
            "timings": timings,
            "environment": environment_info(str(trainer.device)),
            "model_info": model.describe(),
            "files": {},
        }
        run.write_results(results)
        run.set_status("stopped", phase="stopped", completion=completion, stop_signal=signal_name)
        emit({"event": "done", "results": results})
        return results
    run.set_status(phase="testing", phase_started_at=utc_now())
    emit({"event": "phase", "phase": "testing"})
    t = time.perf_counter()
    valid = evaluate_all(model, data, split, "valid", config.eval, device=trainer.device)
    test = evaluate_all(model, data, split, "test", config.eval, with_ranks=True, device=trainer.device)
    timings["test_s"] = time.perf_counter() - t
    primary = test["primary"]
    run.write_table("per_user_test", primary.per_user)
    if primary.ranks is not None:
        run.write_table("ranks_test", primary.ranks)
    if "all_items" in test:
        run.write_table("per_user_test_all_items", test["all_items"].per_user)
    run.write_table("per_user_valid", valid["primary"].per_user)
    state = {k: v.detach().cpu() for k, v in model.checkpoint_state().items()}
    run.save_checkpoint(
        state,
        {
            "model": config.model.name,
            "rec_core_checkpoint": "1",
            "dataset": str(data.summary().get("name", config.data.name)),
            "n_users": str(data.n_users),
            "n_items": str(data.n_items),
        },
    )
    # Multi-phase runs: each earlier phase's own best weights, valid and test, after the run's
    # own test (a recorded ablation; the restored weights were chosen on validation only).
    phase_alone = earlier_phases_alone(trainer, fit["setups"], fit["final_phase"], data, split, config.eval)
    # Sizes and checksums of what was written, verified when listing (sizes) and loading.
    written = sorted(f"tables/{p.name}" for p in (run.path / "tables").glob("*.parquet")) + ["model.safetensors"]
    timings["total_s"] = time.perf_counter() - t_start
    results = {
        **base,
        "valid": {k: r.to_dict() for k, r in valid.items()},
        "test": {k: r.to_dict() for k, r in test.items()},
        **record,
        "phase_alone": phase_alone,  # {phase: {"epoch", "valid", "test", "note"}}; {} with one phase
        "timings": timings,
        "environment": environment_info(str(trainer.device)),
        "model_info": model.describe(),
        "warm_start_run": warm_from,  # the MF run whose ID weights started this one ("auto" resolved)
        "warm_start": warm_start_record(config, RunStore(run.path.parent), warm_from),  # that run's settings
        "files": run.file_manifest(written),
    }
    # results.json is written after every file it records, and the final state after it.
    run.write_results(results)
    state_name = "stopped" if completion["state"] == "stopped" else "done"
    run.set_status(state_name, phase=state_name, completion=completion, stop_signal=signal_name)
    emit({"event": "done", "results": results})
    return results


PhasePlan = tuple[str, int, Callable[[], None] | None]  # (name, epochs, setup before its epochs)


def _encode_reporter(run: Run, emit: ProgressFn) -> EncodeProgress:
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


def _phase_plan(model: Recommender, epochs: int) -> list[PhasePlan]:
    """The model's training schedule as (name, epochs, setup) phases (`Recommender.fit_phases`)."""
    return [(str(name), int(n), setup) for name, n, setup in model.fit_phases(epochs)]


def _fit_schedule(trainer: Trainer, model: Recommender, config: RunConfig) -> dict[str, Any]:
    """Run the model's training schedule: one fit, or the phases a model asks for.

    Phases run in order on the same trainer (the enhanced model's scheme 3: cached epochs,
    then dynamic epochs). A phase planned with 0 epochs only applies its setup. The last
    phase with epochs is the final one: with `train.select_best == "final_phase"` the
    restored weights are chosen within it (see `Trainer.begin_phase`).
    """
    plan = _phase_plan(model, config.train.epochs)
    # Phases that train; with none (0 epochs, or a model without gradient training) the last
    # one is still fitted once: that prepares the model and validates it.
    active = [i for i, (_, n, _) in enumerate(plan) if n > 0] or [len(plan) - 1]
    history: list[dict[str, Any]] = []
    seconds, stopped, early = 0.0, False, False
    for i, (name, epochs, setup) in enumerate(plan):
        if setup is not None:
            setup()
        if i not in active:
            continue
        trainer.begin_phase(name, final=i == active[-1])
        res = trainer.fit(epochs, patience=model.phase_patience(name))  # counted within the phase
        history += res.history
        seconds += res.seconds
        stopped, early = res.stopped, res.early_stopped
        if stopped:
            break
    # Every planned phase with epochs, with the epochs it actually ran (None: never started)
    # and its own best validated epoch and score (the monitor; None: it validated none),
    # whichever phase the restored weights come from.
    phases = []
    for k, i in enumerate(active):  # trainer.phases has one entry per begin_phase, in this order
        name, n, _ = plan[i]
        done = trainer.phases[k] if k < len(trainer.phases) else {}
        phases.append(
            {
                "name": name,
                "epochs_planned": n,
                "first_epoch": done.get("first_epoch"),
                "last_epoch": done.get("last_epoch"),
                "best_epoch": done.get("best_epoch"),
                "best_valid": _finite(done.get("best_score")),
            }
        )
    return {
        "history": history,
        "seconds": seconds,
        "stopped": stopped,
        "early_stopped": early,
        "phases": phases,
        "final_phase": plan[active[-1]][0],
        "setups": {name: setup for name, _, setup in plan},  # for `earlier_phases_alone`
    }


def _finite(x: Any) -> float | None:
    """`x` as a float for the JSON record; None when absent or not finite."""
    return float(x) if isinstance(x, (int, float)) and math.isfinite(x) else None


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


def _completion(
    trainer: Trainer,
    model: Recommender,
    fit: dict[str, Any],
    signal_name: str | None = None,
    signal_rank: int | None = None,
) -> dict[str, Any]:
    """How the run ended: state finished or stopped, why, and where its weights come from.

    A model without gradient training (Popularity, closed-form models) is "finished" once
    fitted, never "stopped before the first epoch".
    """
    trainable = bool(getattr(model, "trainable", True))
    if not trainable:
        state, reason = "finished", "fitted"
    elif fit["stopped"]:
        state, reason = "stopped", "signal" if signal_name else "user_stop"
    else:
        state, reason = "finished", "early_stopped" if fit["early_stopped"] else "max_epochs"
    completion: dict[str, Any] = {
        "state": state,
        "reason": reason,
        "epochs_completed": trainer.epoch,
        "best_epoch": trainer.best_epoch,
        "best_phase": trainer.best_phase,
        "select_best": trainer.config.select_best,
    }
    if reason == "signal":
        completion["signal"] = signal_name
        if signal_rank is not None:  # sent to that process alone, not to the launcher
            completion["signal_rank"] = signal_rank
    note = _phase_note(trainer, fit)
    if note:
        completion["note"] = note
    return {**completion, "summary": completion_summary(completion)}


def _phase_note(trainer: Trainer, fit: dict[str, Any]) -> str:
    """With several phases, why the restored weights are (or are not) from the final phase,
    and what each other phase alone scored on validation (its own best epoch), e.g. "cached
    phase alone: valid NDCG@10 0.2100 (epoch 3)"."""
    if len(fit["phases"]) < 2 or trainer.epoch == 0:
        return ""
    final = fit["final_phase"]
    final_ran = fit["phases"][-1]["first_epoch"] is not None
    final_validated = any(h.get("phase") == final and "valid" in h for h in fit["history"])
    peak = trainer.peak
    if not final_ran:
        return f"stopped before the {final} phase"
    monitor = trainer.config.monitor.upper()
    alone = "; ".join(
        f"{p['name']} phase alone: valid {monitor} {p['best_valid']:.4f} (epoch {p['best_epoch']})"
        for p in fit["phases"]
        if p["name"] != trainer.best_phase and p["best_valid"] is not None
    )
    if trainer.best_phase != final:
        if not final_validated:
            return f"the {final} phase validated no epoch"
        return f"the {final} phase did not improve validation" + (f" ({alone})" if alone else "")
    if peak is not None and peak["phase"] != final:
        return (
            f"selected within the {final} phase; validation peaked at epoch {peak['epoch']} "
            f"({peak['phase']} phase): the {final} phase did not improve on it"
        )
    return alone


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
