"""One training run end to end: data -> split -> model -> fit -> test -> run store.

`RunConfig` is everything that defines a run; `execute_run` carries it out inside a run
folder, recording progress as it goes so that a page (or another process) can follow it.
"""
from __future__ import annotations

import dataclasses
import os
import random
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from rec_core.configs import config_from_dict, config_to_dict
from rec_core.data import DataConfig, load_dataset
from rec_core.data.interactions import InteractionData
from rec_core.errors import ConfigError, RecCoreError
from rec_core.evaluate import EvalConfig, evaluate_all
from rec_core.models.base import Recommender
from rec_core.models.registry import MODELS, build_model, model_config_class
from rec_core.runs import Run, RunStore, environment_info
from rec_core.runs.summary import completion_summary
from rec_core.split import Split, SplitConfig, make_split
from rec_core.train import TrainConfig, Trainer
from rec_core.warm_start import apply_warm_start, check_warm_start

__all__ = ["RunConfig", "execute_run", "start_run", "load_run_model", "seed_everything", "prepare_data"]


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run. `seed` drives the split, the init and the sampling."""

    data: DataConfig = field(default_factory=DataConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    model: Any = field(default_factory=lambda: model_config_class("mf")())  # a model config
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    seed: int = 0  # one seed for the split, the model's init, shuffling and negative sampling
    label: str = ""  # free text shown in the app; not part of the science

    def __post_init__(self) -> None:
        if getattr(self.model, "name", None) not in MODELS:
            raise ConfigError("model", f"allowed: {', '.join(MODELS)}")
        # The sub-configs carry their own seeds; the run's seed overrides them so one number
        # reproduces the run.
        if self.split.seed != self.seed:
            object.__setattr__(self, "split", dataclasses.replace(self.split, seed=self.seed))
        if self.train.seed != self.seed:
            object.__setattr__(self, "train", dataclasses.replace(self.train, seed=self.seed))

    def to_dict(self) -> dict[str, Any]:
        return config_to_dict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunConfig":
        d = dict(d)
        model_d = dict(d.pop("model", {"name": "mf"}))
        preset = model_d.get("preset")
        if preset:
            from rec_core.models.enhanced import PRESETS

            if preset not in PRESETS:
                raise ConfigError("model.preset", f"allowed: {', '.join(PRESETS)}; got {preset!r}")
            # A preset fills the switches the user did not set; explicit fields win.
            for key, value in PRESETS[preset].items():
                model_d.setdefault(key, value)
        model_cls = model_config_class(str(model_d.get("name", "mf")))
        model = config_from_dict(model_cls, model_d, "model.")
        sub = {
            "data": DataConfig,
            "split": SplitConfig,
            "train": TrainConfig,
            "eval": EvalConfig,
        }
        kwargs: dict[str, Any] = {"model": model}
        for key, value in d.items():
            if key in sub:
                kwargs[key] = config_from_dict(sub[key], value, key + ".")
            elif key == "seed":
                kwargs[key] = int(value)
            elif key == "label":
                kwargs[key] = str(value)
            else:
                raise ConfigError(key, "unknown section; allowed: data, split, model, train, eval, seed, label")
        return cls(**kwargs)

    def run_prefix(self) -> str:
        """Readable prefix of generated run ids, e.g. `mf-ml-100k-ratio-s0`."""
        preset = getattr(self.model, "preset", "") or ""
        parts = [self.model.name, preset, self.data.name, self.split.kind, f"s{self.seed}"]
        return "-".join(p for p in parts if p)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so a CPU run is reproducible bit for bit."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def prepare_data(config: RunConfig) -> tuple[InteractionData, Split]:
    """Load the dataset and split it as the run says."""
    data = load_dataset(config.data)
    return data, make_split(data, config.split)


def start_run(config: RunConfig, store: RunStore, run_id: str | None = None) -> Run:
    """Create the run folder (queued) for `config`; nothing is trained yet."""
    check_warm_start(config, store)  # a bad `init_from_run` leaves no run folder behind
    return store.create(config.to_dict(), run_id=run_id, prefix=config.run_prefix())


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
    non-zero; the run folder is never left saying `running`.
    """
    emit = progress or (lambda info: None)
    t_start = time.perf_counter()
    run.set_status("running", pid=os.getpid(), phase="loading data", completion=None)
    live: dict[str, Any] = {}  # the trainer's epoch / best so far, for the status of a run that ends early
    try:
        config = RunConfig.from_dict(run.config())
        results = _execute(run, config, emit, t_start, data, split, live)
    except KeyboardInterrupt:
        completion = _live_completion("stopped", "interrupted", live)
        run.set_status("stopped", phase="interrupted", error="interrupted (Ctrl-C) before the run finished",
                       completion=completion)
        raise
    except Exception as exc:  # noqa: BLE001 - every failure must reach the run's status
        msg = str(exc) if isinstance(exc, RecCoreError) else f"{type(exc).__name__}: {exc}"
        run.set_status("failed", phase="failed", error=msg, traceback=traceback.format_exc(limit=20),
                       completion=_live_completion("failed", "error", live))
        raise
    return results


def _live_completion(state: str, reason: str, live: dict[str, Any]) -> dict[str, Any]:
    """The completion record of a run that ended by an exception, from what training reached."""
    completion = {"state": state, "reason": reason, "epochs_completed": int(live.get("epoch", 0)),
                  "best_epoch": int(live.get("best_epoch", 0)), "best_phase": live.get("best_phase")}
    return {**completion, "summary": completion_summary(completion)}


def _execute(
    run: Run,
    config: RunConfig,
    emit: ProgressFn,
    t_start: float,
    data: InteractionData | None,
    split: Split | None,
    live: dict[str, Any],
) -> dict[str, Any]:
    timings: dict[str, float] = {}
    t = time.perf_counter()
    if data is None:
        data = load_dataset(config.data)
    timings["load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    if split is None:
        split = make_split(data, config.split)
    timings["split_s"] = time.perf_counter() - t
    seed_everything(config.seed)
    phase = "encoding text" if getattr(MODELS[config.model.name][1], "needs_data", False) else "building model"
    run.set_status(phase=phase)
    emit({"event": "phase", "phase": phase})
    t = time.perf_counter()
    model = build_model(config.model, data)
    warm_from = apply_warm_start(model, config, RunStore(run.path.parent))  # `init_from_run`: MF run's ID weights
    timings["build_model_s"] = time.perf_counter() - t
    trainer = Trainer(model, data, split, config.train, config.eval)
    trainer.set_stop_check(run.stop_requested)
    epochs = config.train.epochs

    def on_epoch(tr: Trainer, record: dict[str, Any]) -> None:
        live.update(epoch=tr.epoch, best_epoch=tr.best_epoch, best_phase=tr.best_phase)
        run.append_history(record)
        run.set_status(phase="training", progress={"epoch": tr.epoch, "epochs": epochs, "best_epoch": tr.best_epoch,
                                                   "training_phase": tr.phase, "best_phase": tr.best_phase})
        emit({"event": "epoch", **record, "epochs": epochs})

    def on_step(tr: Trainer, info: dict[str, Any]) -> None:
        emit({"event": "step", **info})

    trainer.add_callback("on_epoch_end", on_epoch)
    trainer.add_callback("on_step_end", on_step)
    run.set_status(phase="preparing model", progress={"epoch": 0, "epochs": epochs})
    emit({"event": "phase", "phase": "preparing model"})
    fit = _fit_schedule(trainer, model, config)
    timings["fit_s"] = fit["seconds"]
    epoch_secs = [h["seconds"] for h in fit["history"]]
    timings["epoch_s_mean"] = float(np.mean(epoch_secs)) if epoch_secs else 0.0
    completion = _completion(trainer, model, fit)
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
    }
    if completion["epochs_completed"] == 0 and completion["state"] == "stopped":
        # Stopped before a gradient-trained model completed one epoch: its weights are the
        # random init. No valid / test metrics, per-user tables or checkpoint that could pass
        # for a trained model; the run is not comparable.
        timings["total_s"] = time.perf_counter() - t_start
        results = {**base, **record, "timings": timings,
                   "environment": environment_info(str(trainer.device)),
                   "model_info": getattr(model, "describe", lambda: {})()}
        run.write_results(results)
        run.set_status("stopped", phase="stopped", completion=completion)
        emit({"event": "done", "results": results})
        return results
    run.set_status(phase="testing")
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
    run.save_checkpoint(state, {"model": config.model.name, "rec_core_checkpoint": "1"})
    timings["total_s"] = time.perf_counter() - t_start
    results = {
        **base,
        "valid": {k: r.to_dict() for k, r in valid.items()},
        "test": {k: r.to_dict() for k, r in test.items()},
        **record,
        "timings": timings,
        "environment": environment_info(str(trainer.device)),
        "model_info": getattr(model, "describe", lambda: {})(),
        "warm_start_run": warm_from,  # the MF run whose ID weights started this one ("auto" resolved)
    }
    run.write_results(results)
    state_name = "stopped" if completion["state"] == "stopped" else "done"
    run.set_status(state_name, phase=state_name, completion=completion)
    emit({"event": "done", "results": results})
    return results


PhasePlan = tuple[str, int, Callable[[], None] | None]  # (name, epochs, setup before its epochs)


def _phase_plan(model: Recommender, epochs: int) -> list[PhasePlan]:
    """The model's training schedule as (name, epochs, setup) phases.

    `named_fit_phases(epochs)` gives names; a model with only `fit_phases(epochs)` ->
    (epochs, setup) gets "phase1", "phase2", ...; any other model trains one phase, "train".
    """
    named = getattr(model, "named_fit_phases", None)
    if named is not None:
        return [(str(name), int(n), setup) for name, n, setup in named(epochs)]
    plain = getattr(model, "fit_phases", None)
    if plain is not None:
        raw = list(plain(epochs))
        return [("train" if len(raw) == 1 else f"phase{i + 1}", int(n), setup) for i, (n, setup) in enumerate(raw)]
    return [("train", epochs, None)]


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
        res = trainer.fit(epochs)
        history += res.history
        seconds += res.seconds
        stopped, early = res.stopped, res.early_stopped
        if stopped:
            break
    # Every planned phase with epochs, with the epochs it actually ran (None: never started).
    phases = []
    for k, i in enumerate(active):  # trainer.phases has one entry per begin_phase, in this order
        name, n, _ = plan[i]
        done = trainer.phases[k] if k < len(trainer.phases) else {}
        phases.append({"name": name, "epochs_planned": n, "first_epoch": done.get("first_epoch"),
                       "last_epoch": done.get("last_epoch")})
    return {"history": history, "seconds": seconds, "stopped": stopped, "early_stopped": early,
            "phases": phases, "final_phase": plan[active[-1]][0]}


def _completion(trainer: Trainer, model: Recommender, fit: dict[str, Any]) -> dict[str, Any]:
    """How the run ended: state finished or stopped, why, and where its weights come from.

    A model without gradient training (Popularity, closed-form models) is "finished" once
    fitted, never "stopped before the first epoch".
    """
    trainable = bool(getattr(model, "trainable", True))
    if not trainable:
        state, reason = "finished", "fitted"
    elif fit["stopped"]:
        state, reason = "stopped", "user_stop"
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
    note = _phase_note(trainer, fit)
    if note:
        completion["note"] = note
    return {**completion, "summary": completion_summary(completion)}


def _phase_note(trainer: Trainer, fit: dict[str, Any]) -> str:
    """With several phases, why the restored weights are (or are not) from the final phase."""
    if len(fit["phases"]) < 2 or trainer.epoch == 0:
        return ""
    final = fit["final_phase"]
    final_ran = fit["phases"][-1]["first_epoch"] is not None
    final_validated = any(h.get("phase") == final and "valid" in h for h in fit["history"])
    peak = trainer.peak
    if not final_ran:
        return f"stopped before the {final} phase"
    if trainer.best_phase != final:
        if not final_validated:
            return f"the {final} phase validated no epoch"
        return f"the {final} phase did not improve validation"
    if peak is not None and peak["phase"] != final:
        return (f"selected within the {final} phase; validation peaked at epoch {peak['epoch']} "
                f"({peak['phase']} phase): the {final} phase did not improve on it")
    return ""


def load_run_model(run: Run, data: InteractionData | None = None) -> tuple[Recommender, RunConfig]:
    """Rebuild a finished run's model from its config and checkpoint (scores identically)."""
    config = RunConfig.from_dict(run.config())
    if data is None:
        data = load_dataset(config.data)
    model = build_model(config.model, data)
    state, _meta = run.load_checkpoint()
    model.load_checkpoint_state(state)
    model.eval()
    return model, config
