"""`Trainer`: BPR training with Adam, early stopping on validation, callbacks, cooperative stop.

The trainer knows nothing about the model beyond the contract of `models.base.Recommender`:
it samples (user, positive, negative) batches, back-propagates `loss(batch)["total"]`, and
evaluates the validation split after each epoch.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from rec_core import distributed
from rec_core.configs.train import SELECT_BEST as SELECT_BEST
from rec_core.configs.train import SelectBest as SelectBest
from rec_core.configs.train import TrainConfig, check_monitor
from rec_core.data.interactions import InteractionData
from rec_core.errors import ConfigError, RecCoreError
from rec_core.configs.eval import EvalConfig
from rec_core.evaluate.ranking import evaluate
from rec_core.models.base import Batch, Recommender, TrainContext
from rec_core.split import Split
from rec_core.train.closed_form import select_on_validation
from rec_core.train.sampling import NegativeSampler

__all__ = ["TrainConfig", "Trainer", "FitResult", "TrainingDiverged", "resolve_device"]

Event = Literal["on_fit_start", "on_step_end", "on_epoch_end", "on_fit_end"]
Callback = Callable[["Trainer", dict[str, Any]], None]


class TrainingDiverged(RecCoreError):
    """The loss became NaN or infinite."""


@dataclass
class FitResult:
    """What one `fit` call did."""

    epochs_run: int
    best_epoch: int  # global epoch number (across fit calls) of the restored weights; 0 if none
    # (or the initial weights, when best_phase is "initial": see Recommender.validate_initial)
    best_score: float  # validation `monitor` at best_epoch (nan when never validated)
    stopped: bool  # a cooperative stop ended the call
    early_stopped: bool  # patience ran out
    seconds: float
    history: list[dict[str, Any]] = field(default_factory=list)
    phase: str = "train"  # name of the phase this call trained in
    best_phase: str | None = None  # phase of best_epoch (None when no epoch was validated)


def _phase_entry(name: str) -> dict[str, Any]:
    """A phase as `Trainer.phases` lists it, before any of its epochs."""
    return {"name": name, "first_epoch": None, "last_epoch": None, "best_epoch": None, "best_score": None}


def resolve_device(name: str) -> torch.device:
    """`auto` picks cuda, then mps, then cpu; an explicit device that is absent is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", "cuda was asked for but no CUDA device is available")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device", "mps was asked for but no MPS device is available")
    return torch.device(name)


class Trainer:
    """Fits a `Recommender` on `split.train` and selects epochs on `split.valid`.

    `fit(epochs)` can be called again to continue (optimizer state and the epoch counter carry
    over; the optimizer is rebuilt only if the set of trainable parameters changed, as when a
    model switches `use_cache` off and its backbone adapters start to learn).
    """

    def __init__(
        self,
        model: Recommender,
        data: InteractionData,
        split: Split,
        config: TrainConfig = TrainConfig(),
        eval_config: EvalConfig = EvalConfig(),
    ) -> None:
        self.model = model
        self.data = data
        self.split = split
        check_monitor(config.monitor, eval_config)  # else every validation is NaN: no epoch selected
        self.config = config
        self.eval_config = eval_config
        self.device = resolve_device(config.device)
        if config.threads:
            torch.set_num_threads(config.threads)
        self.callbacks: dict[str, list[Callback]] = defaultdict(list)
        self.epoch = 0  # epochs completed over all fit calls
        self.best_score = -math.inf
        self.best_epoch = 0
        self.best_phase: str | None = None  # phase of best_epoch
        self._best_state: dict[str, torch.Tensor] | None = None
        # Phases: every epoch record carries the current phase's name; `phases` lists them in
        # order with their first and last epoch (None until one of its epochs completes) and
        # their own best validated epoch and score ("best_epoch", "best_score"; None until one
        # is validated), whichever phase the restored weights come from.
        self.phase = "train"
        self.phases: list[dict[str, Any]] = []
        # The weights of each non-final phase's own best epoch (phase name -> snapshot): what
        # that phase alone achieved, for a recorded ablation (`phase_state`).
        self._phase_states: dict[str, dict[str, torch.Tensor]] = {}
        self._final = True  # the current phase is the final one (begin_phase's `final`)
        # The best validated epoch over all phases, whatever `select_best` restores: lets a run
        # say "the dynamic phase did not improve validation".
        self.peak: dict[str, Any] | None = None  # {"epoch", "phase", "score"}
        # The best of earlier phases, set aside when the final phase starts (select_best
        # "final_phase"); restored only if the final phase validates no epoch at all.
        self._set_aside: tuple[float, int, str | None, dict[str, torch.Tensor] | None] | None = None
        self._stop = False
        self._stop_check: Callable[[], bool] | None = None
        self._optimizer: torch.optim.Optimizer | None = None
        self._opt_params: tuple[int, ...] = ()
        self._prepared = False
        self._initial_validated = False  # the initial weights were validated (model.validate_initial)
        self._generator = torch.Generator().manual_seed(config.seed)
        # Several processes (torchrun): this rank's place; the same seed draws the same epoch
        # on every rank and each takes its part of every global batch (rec_core/distributed.py).
        self._rank, self._world = distributed.current()
        self._step_model: torch.nn.Module | None = None
        tr = split.train
        self._train_users = torch.from_numpy(data.users[tr].astype(np.int64))
        self._train_items = torch.from_numpy(data.items[tr].astype(np.int64))
        self._sampler = NegativeSampler(data.users[tr], data.items[tr], data.n_items)

    # -- callbacks and stopping ---------------------------------------------------------------
    def add_callback(self, event: Event, fn: Callback) -> None:
        self.callbacks[event].append(fn)

    def _emit(self, event: Event, info: dict[str, Any]) -> None:
        for fn in self.callbacks[event]:
            fn(self, info)

    def request_stop(self) -> None:
        """Ask the running fit to stop after the current step (best weights are restored)."""
        self._stop = True

    def set_stop_check(self, check: Callable[[], bool]) -> None:
        """A cheap function polled between steps (e.g. "does the run's STOP file exist")."""
        self._stop_check = check

    def _should_stop(self) -> bool:
        if not self._stop and self._stop_check is not None and self._stop_check():
            self._stop = True
        if self._world > 1:  # every rank stops at the same step, or the others would wait forever
            self._stop = distributed.any_rank(self._stop)
        return self._stop

    # -- phases --------------------------------------------------------------------------------
    def begin_phase(self, name: str, *, final: bool = True) -> None:
        """Start a named training phase; later epochs are recorded under `name`.

        When `final` is set, an earlier phase exists and `config.select_best` is
        "final_phase", the best epoch so far is set aside: the weights restored at the end
        of `fit` then come from this phase (its first validated epoch starts the count).
        """
        if final and self.phases and self.config.select_best == "final_phase":
            self._set_aside = (self.best_score, self.best_epoch, self.best_phase, self._best_state)
            self.best_score, self.best_epoch, self.best_phase, self._best_state = -math.inf, 0, None, None
        self.phase = name
        self._final = final
        self.phases.append(_phase_entry(name))

    def _note_epoch(self) -> None:
        """Record the completed epoch `self.epoch` in the current phase."""
        if not self.phases:  # a fit without begin_phase: one implicit phase
            self.phases.append(_phase_entry(self.phase))
        current = self.phases[-1]
        if current["first_epoch"] is None:
            current["first_epoch"] = self.epoch
        current["last_epoch"] = self.epoch

    # -- training --------------------------------------------------------------------------------
    def phase_state(self, name: str) -> dict[str, torch.Tensor] | None:
        """The weights of non-final phase `name`'s own best validated epoch (what `snapshot`
        keeps), or None when that phase validated no epoch (or is the final one)."""
        return self._phase_states.get(name)

    def _note_validation(self, score: float) -> bool:
        """Record the validated epoch `self.epoch` (`score`: the monitor): the peak over all
        phases, the current phase's own best (with its weights for a non-final phase) and the
        best to restore. Returns whether the best to restore improved (patience resets)."""
        if self.peak is None or score > self.peak["score"]:
            self.peak = {"epoch": self.epoch, "phase": self.phase, "score": score}
        state = None
        improved = score > self.best_score  # NaN (no validation users) never improves
        if improved:
            self.best_score, self.best_epoch, self.best_phase = score, self.epoch, self.phase
            self._best_state = state = self.snapshot()
        current = self.phases[-1]
        if current["best_score"] is None or score > current["best_score"]:
            current["best_epoch"], current["best_score"] = self.epoch, score
            if not self._final:  # one snapshot serves both when the two bests move together
                self._phase_states[self.phase] = state if state is not None else self.snapshot()
        return improved

    def _trainable(self) -> list[torch.nn.Parameter]:
        return [p for p in self.model.parameters() if p.requires_grad]

    def _ensure_optimizer(self) -> torch.optim.Optimizer:
        params = self._trainable()
        ids = tuple(id(p) for p in params)
        if self._optimizer is None or ids != self._opt_params:
            # fused: the whole update of every parameter in one kernel (CPU and CUDA), not
            # foreach's dozen multi-tensor ops and their temporaries: an Enhanced step dispatches
            # 1,344 operators instead of 1,786, and MF's epoch is 25% faster (bench/README.md,
            # "Speed"). Elsewhere foreach, one multi-tensor kernel per Adam op.
            fused = self.device.type in ("cpu", "cuda")
            self._optimizer = torch.optim.Adam(
                params,
                lr=self.config.lr,
                weight_decay=self.config.weight_decay,
                fused=fused or None,
                foreach=None if fused else True,
            )
            self._opt_params = ids
        return self._optimizer

    def snapshot(self) -> dict[str, torch.Tensor]:
        """A copy of the model's weights that training can change (`load_state_dict(...,
        strict=False)` puts them back)."""
        # Only what training can change: trainable parameters and buffers. A frozen backbone
        # would be hundreds of MB to copy at every improvement and never differs.
        trainable = {n for n, p in self.model.named_parameters() if p.requires_grad}
        buffers = {n for n, _ in self.model.named_buffers()}
        keep = trainable | buffers
        return {k: v.detach().clone() for k, v in self.model.state_dict().items() if k in keep}

    def validate(self) -> dict[str, float]:
        """Validation metrics (primary ranking) of the current weights."""
        result = evaluate(self.model, self.data, self.split, "valid", self.eval_config, device=self.device)
        return dict(result.metrics)

    def _validate_initial(self) -> dict[str, Any]:
        """Validate the weights before any training (epoch 0, phase "initial") and make them
        the best so far: a warm-started model keeps them unless an epoch validates better."""
        t_eval = time.perf_counter()
        valid = self.validate()
        score = valid.get(self.config.monitor, float("nan"))
        self._initial_validated = True
        self.peak = {"epoch": 0, "phase": "initial", "score": score}
        if score > self.best_score:  # NaN (no validation users) keeps nothing
            self.best_score, self.best_epoch, self.best_phase = score, 0, "initial"
            self._best_state = self.snapshot()
        record = {
            "epoch": 0,
            "phase": "initial",
            "loss": {},
            "seconds": 0.0,
            "valid": valid,
            "eval_seconds": time.perf_counter() - t_eval,
            "best_epoch": self.best_epoch,
            "best_phase": self.best_phase,
        }
        self._emit("on_epoch_end", record)
        return record

    def fit(self, epochs: int | None = None, patience: int | None = None) -> FitResult:
        """Train up to `epochs` more epochs (default `config.epochs`), stopping early after
        `patience` validated epochs without a better score to restore (default
        `config.patience`; counted from 0 in each call: a phase has its own count); returns
        what happened."""
        n_epochs = self.config.epochs if epochs is None else epochs
        patience = self.config.patience if patience is None else patience
        if patience < 0:
            raise ConfigError("patience", f"must be >= 0, got {patience}")
        if n_epochs < 0:
            raise ConfigError("epochs", f"must be >= 0, got {n_epochs}")
        self._stop = False
        model = self.model.to(self.device)
        t_fit = time.perf_counter()
        self._prepare_once(model)
        self._step_model = self._wrap(model)
        self._emit("on_fit_start", {"epochs": n_epochs, "start_epoch": self.epoch})
        history: list[dict[str, Any]] = []
        early = False
        if not model.trainable:
            n_epochs = 0  # nothing to fit by gradient (Popularity); still validated once below
        bad_epochs = 0
        if n_epochs and self.epoch == 0 and not self._initial_validated and model.validate_initial:
            history.append(self._validate_initial())
        for _ in range(n_epochs):
            if self._should_stop():
                break
            record = self._train_epoch(model)
            if record is None:  # stopped mid-epoch
                break
            if self.epoch % self.config.eval_every == 0 or self.epoch == 1:
                t_eval = time.perf_counter()
                valid = self.validate()
                record["valid"] = valid
                record["eval_seconds"] = time.perf_counter() - t_eval
                score = valid.get(self.config.monitor, float("nan"))
                bad_epochs = 0 if self._note_validation(score) else bad_epochs + 1
                record["best_epoch"] = self.best_epoch
                record["best_phase"] = self.best_phase
            history.append(record)
            self._emit("on_epoch_end", record)
            if patience and bad_epochs >= patience:
                early = True
                break
        if not model.trainable and self.best_epoch == 0:
            # Closed-form models (EASE, ItemKNN) fit each candidate of their grid and keep the
            # validation-best (train/closed_form.py); Popularity is validated once.
            def record_candidate(record: dict[str, Any]) -> None:
                history.append(record)
                self._emit("on_epoch_end", record)

            self.best_score = select_on_validation(model, self.validate, self.config.monitor, record_candidate)
        if self._best_state is None and self._set_aside is not None:
            # The final phase validated no epoch (stopped at once, or eval_every skipped it):
            # restore the earlier phases' best, and say so through best_phase.
            self.best_score, self.best_epoch, self.best_phase, self._best_state = self._set_aside
            self._set_aside = None
        if self._best_state is not None:
            model.load_state_dict(self._best_state, strict=False)
        result = FitResult(
            epochs_run=len(history),
            best_epoch=self.best_epoch,
            best_score=self.best_score if math.isfinite(self.best_score) else float("nan"),
            stopped=self._stop,
            early_stopped=early,
            seconds=time.perf_counter() - t_fit,
            history=history,
            phase=self.phase,
            best_phase=self.best_phase,
        )
        self._emit("on_fit_end", {"result": result})
        return result

    def _prepare_once(self, model: Recommender) -> None:
        """`model.prepare` with the training interactions, before the first fit only."""
        if not self._prepared:
            model.prepare(
                TrainContext(
                    self.data.n_users,
                    self.data.n_items,
                    self.data.users[self.split.train],
                    self.data.items[self.split.train],
                )
            )
            self._prepared = True

    def _wrap(self, model: Recommender) -> torch.nn.Module:
        """The module a training step calls: the model itself, or with several processes the
        model in DistributedDataParallel (built per fit: a phase may change what trains).
        DDP broadcasts rank 0's weights when built, so every rank starts the same."""
        if self._world == 1 or not model.trainable:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index or 0] if self.device.type == "cuda" else None
        # Not every parameter takes part in every step (the neutral ID vectors, a side without
        # texts): DDP must not wait for their gradients.
        return DistributedDataParallel(model, device_ids=ids, find_unused_parameters=True)

    def _train_epoch(self, model: Recommender) -> dict[str, Any] | None:
        cfg = self.config
        optimizer = self._ensure_optimizer()
        model.train()
        t0 = time.perf_counter()
        n = len(self._train_users)
        perm = torch.randperm(n, generator=self._generator)
        users = self._train_users[perm]
        pos = self._train_items[perm]
        neg = self._sampler.sample(users, self._generator)
        sums: dict[str, float] = defaultdict(float)
        # With W processes a step covers W x batch_size triples, this rank its contiguous part.
        step_size = cfg.batch_size * self._world
        n_steps = math.ceil(n / step_size)
        params = self._trainable()
        step_model = self._step_model if self._step_model is not None else model
        for step in range(n_steps):
            if self._should_stop():
                return None
            lo, hi = step * step_size, min(n, (step + 1) * step_size)
            if hi - lo < self._world:  # a tail too short to give every rank a triple (same on all ranks)
                break
            a = lo + (hi - lo) * self._rank // self._world
            b = lo + (hi - lo) * (self._rank + 1) // self._world
            batch = Batch(users[a:b], pos[a:b], neg[a:b]).to(self.device)
            parts = step_model(batch)
            total = parts["total"]
            if not torch.isfinite(total):
                raise TrainingDiverged(
                    f"loss became {total.item()} at epoch {self.epoch + 1}, step {step + 1}; "
                    f"lower the learning rate (lr={cfg.lr})"
                )
            optimizer.zero_grad(set_to_none=True)
            # DDP averages the ranks' gradients; weighting each rank's mean loss by its share
            # of the global batch makes that average the gradient of the global batch's mean.
            (total * ((b - a) * self._world / (hi - lo)) if self._world > 1 else total).backward()
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            optimizer.step()
            size = len(batch.users)
            for k, v in parts.items():
                sums[k] += float(v.detach()) * size
            if self.callbacks["on_step_end"]:
                self._emit(
                    "on_step_end",
                    {"epoch": self.epoch + 1, "step": step + 1, "steps": n_steps, "loss": float(total.detach())},
                )
        self.epoch += 1
        self._note_epoch()
        if self._world > 1:  # every rank's share of the epoch's loss sums
            sums = defaultdict(float, distributed.sum_floats(dict(sums)))
        return {
            "epoch": self.epoch,
            "phase": self.phase,
            "loss": {k: v / n for k, v in sums.items()},
            "seconds": time.perf_counter() - t0,
        }
