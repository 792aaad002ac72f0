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
from rec_core.split import Split, SplitConfig, make_split
from rec_core.train import TrainConfig, Trainer

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
    run.set_status("running", pid=os.getpid(), phase="loading data")
    try:
        config = RunConfig.from_dict(run.config())
        results = _execute(run, config, emit, t_start, data, split)
    except KeyboardInterrupt:
        run.set_status("stopped", phase="interrupted", error="interrupted (Ctrl-C) before the run finished")
        raise
    except Exception as exc:  # noqa: BLE001 - every failure must reach the run's status
        msg = str(exc) if isinstance(exc, RecCoreError) else f"{type(exc).__name__}: {exc}"
        run.set_status("failed", phase="failed", error=msg, traceback=traceback.format_exc(limit=20))
        raise
    return results


def _execute(
    run: Run,
    config: RunConfig,
    emit: ProgressFn,
    t_start: float,
    data: InteractionData | None,
    split: Split | None,
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
    timings["build_model_s"] = time.perf_counter() - t
    trainer = Trainer(model, data, split, config.train, config.eval)
    trainer.set_stop_check(run.stop_requested)
    epochs = config.train.epochs

    def on_epoch(tr: Trainer, record: dict[str, Any]) -> None:
        run.append_history(record)
        run.set_status(phase="training", progress={"epoch": tr.epoch, "epochs": epochs, "best_epoch": tr.best_epoch})
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
        "run_id": run.run_id,
        "model": config.model.name,
        "dataset": data.summary(),
        "data_notes": list(data.notes),
        "split": split.describe(),
        "split_notes": list(split.notes),
        "valid": {k: r.to_dict() for k, r in valid.items()},
        "test": {k: r.to_dict() for k, r in test.items()},
        "best_epoch": trainer.best_epoch,
        "epochs_run": trainer.epoch,
        "stopped": fit["stopped"],
        "early_stopped": fit["early_stopped"],
        "n_trainable_params": int(sum(p.numel() for p in model.parameters() if p.requires_grad)),
        "timings": timings,
        "environment": environment_info(str(trainer.device)),
        "model_info": getattr(model, "describe", lambda: {})(),
    }
    run.write_results(results)
    state_name = "stopped" if fit["stopped"] else "done"
    run.set_status(state_name, phase=state_name)
    emit({"event": "done", "results": results})
    return results


def _fit_schedule(trainer: Trainer, model: Recommender, config: RunConfig) -> dict[str, Any]:
    """Run the model's training schedule: one fit, or the phases a model asks for.

    A model may define `fit_phases()` -> list of (epochs, setup function) to run in order on
    the same trainer (the enhanced model's scheme 3: cached epochs, then dynamic epochs).
    """
    phases = getattr(model, "fit_phases", None)
    plan = phases(config.train.epochs) if phases else [(config.train.epochs, None)]
    history: list[dict[str, Any]] = []
    seconds, stopped, early = 0.0, False, False
    for epochs, setup in plan:
        if setup is not None:
            setup()
        res = trainer.fit(epochs)
        history += res.history
        seconds += res.seconds
        stopped, early = res.stopped, res.early_stopped
        if stopped:
            break
    return {"history": history, "seconds": seconds, "stopped": stopped, "early_stopped": early}


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
