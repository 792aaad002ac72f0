"""The stages of one run, as public functions: data -> split -> model -> fit -> test -> files.

`rec_core.experiment.execute_run` calls them in this order inside a run folder and keeps the
run's bookkeeping (status, progress, attempts, failures); anyone who needs the same pipeline
without a run folder (the app's duration calibration, a benchmark) calls them directly:

    seed_everything(seed: int) -> None
    load_data(config: RunConfig) -> InteractionData
    split_data(data: InteractionData, config: RunConfig) -> Split
    prepare_data(config: RunConfig) -> tuple[InteractionData, Split]      # load_data + split_data
    build_run_model(config: RunConfig, data: InteractionData, store: RunStore | None = None)
        -> tuple[Recommender, str | None]    # the model, warm-started from `store` when
                                             # `config.init_from_run` says so; the MF run id used
    fit_schedule(trainer: Trainer, model: Recommender, config: RunConfig) -> dict[str, Any]
        # the model's phases on one trainer: {"history", "seconds", "stopped", "early_stopped",
        #  "phases", "final_phase", "setups"}
    completion_record(trainer, model, fit, signal_name=None, signal_rank=None) -> dict[str, Any]
    evaluate_run(model, data, split, config: RunConfig, device) -> tuple[dict, dict]
        # (valid, test): `evaluate_all`'s results per item set; test with ranks
    write_outputs(run: Run, model, data, config, valid, test) -> list[str]
        # per-user tables and the checkpoint into the run folder; the paths written

Each stage is deterministic given the seed set by `seed_everything(config.seed)` before
`build_run_model`, so the same config gives the same metrics whoever calls the stages.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import torch

from rec_core.configs.run import RunConfig
from rec_core.data import load_dataset
from rec_core.data.interactions import InteractionData
from rec_core.evaluate import evaluate_all
from rec_core.models.base import Recommender
from rec_core.models.registry import build_model
from rec_core.runs import Run, RunStore
from rec_core.runs.summary import completion_summary
from rec_core.split import Split, make_split
from rec_core.train import Trainer
from rec_core.warm_start import apply_warm_start

__all__ = [
    "build_run_model",
    "completion_record",
    "evaluate_run",
    "fit_schedule",
    "load_data",
    "prepare_data",
    "seed_everything",
    "split_data",
    "write_outputs",
]


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so a CPU run is reproducible bit for bit."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def load_data(config: RunConfig) -> InteractionData:
    """The run's dataset (`config.data`)."""
    return load_dataset(config.data)


def split_data(data: InteractionData, config: RunConfig) -> Split:
    """`data` split as `config.split` says (train / valid / test per user)."""
    return make_split(data, config.split)


def prepare_data(config: RunConfig) -> tuple[InteractionData, Split]:
    """Load the dataset and split it as the run says."""
    data = load_data(config)
    return data, split_data(data, config)


def build_run_model(
    config: RunConfig, data: InteractionData, store: RunStore | None = None
) -> tuple[Recommender, str | None]:
    """The run's model on `data`, and the MF run whose ID weights started it (None: none).

    The warm start (`config.init_from_run`) reads its source run from `store`; without a
    store none is applied. Call `seed_everything(config.seed)` first: the initial weights
    come from the seeded generators.
    """
    model = build_model(config.model, data)
    warm_from = apply_warm_start(model, config, store) if store is not None else None
    return model, warm_from


def fit_schedule(trainer: Trainer, model: Recommender, config: RunConfig) -> dict[str, Any]:
    """Run the model's training schedule: one fit, or the phases a model asks for.

    Phases run in order on the same trainer (the enhanced model's scheme 3: cached epochs,
    then dynamic epochs). A phase planned with 0 epochs only applies its setup. The last
    phase with epochs is the final one: with `train.select_best == "final_phase"` the
    restored weights are chosen within it (see `Trainer.begin_phase`).
    """
    plan = [(str(name), int(n), setup) for name, n, setup in model.fit_phases(config.train.epochs)]
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


def completion_record(
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


def evaluate_run(
    model: Recommender, data: InteractionData, split: Split, config: RunConfig, device: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The trained model's (valid, test) results, each `evaluate_all`'s dict per item set
    ("primary", maybe "all_items"); the test results carry each user's ranks."""
    valid = evaluate_all(model, data, split, "valid", config.eval, device=device)
    test = evaluate_all(model, data, split, "test", config.eval, with_ranks=True, device=device)
    return valid, test


def write_outputs(
    run: Run,
    model: Recommender,
    data: InteractionData,
    config: RunConfig,
    valid: dict[str, Any],
    test: dict[str, Any],
) -> list[str]:
    """Write the per-user tables (tables/*.parquet) and the checkpoint (model.safetensors)
    into the run folder; returns the paths written, relative to it, for the file manifest."""
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
    return sorted(f"tables/{p.name}" for p in (run.path / "tables").glob("*.parquet")) + ["model.safetensors"]
