"""`TrainConfig`: the optimiser, the budget and early stopping of a run."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from rec_core.configs.convert import MAX_SEED, check_number
from rec_core.configs.eval import METRIC_NAMES, EvalConfig
from rec_core.errors import ConfigError

__all__ = ["SELECT_BEST", "SelectBest", "TrainConfig", "check_monitor"]

# How the restored epoch is chosen when a run trains in several phases (scheme 3: cached, then
# dynamic). "any": the best validated epoch over all phases, so an earlier phase's best stays a
# candidate and the run records which phase won (`best_phase`); "final_phase": within the last
# phase only, which makes "the best epoch is in the final phase" true by construction (kept for
# runs that ask for it; a report must not cite it as evidence for that phase).
SelectBest = Literal["any", "final_phase"]
SELECT_BEST: tuple[str, ...] = ("any", "final_phase")


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 100  # maximum epochs of one fit() call
    lr: float = 2e-3  # Adam learning rate (chosen for MF on ML-100K valid)
    weight_decay: float = 0.0  # Adam weight decay (L2 on every trainable parameter)
    batch_size: int = 2048  # (user, pos, neg) triples per step
    patience: int = 20  # epochs without a better validation score before stopping, counted within each
    # training phase (a phase starts its count at 0; a model may set its own per phase); 0: never stop early
    monitor: str = "ndcg@10"  # validation metric that selects the best epoch
    eval_every: int = 1  # validate every this many epochs
    device: str = "auto"  # auto | cpu | cuda | mps
    seed: int = 0  # seeds shuffling and negative sampling (the model's init is seeded by the caller)
    grad_clip: float = 0.0  # clip the gradient norm to this value; 0 disables
    threads: int = 0  # CPU threads for torch; 0 keeps torch's default. Small models on a busy
    # 2-core machine run several times faster with 1 (no OpenMP threads fighting for cores)
    select_best: SelectBest = "any"  # with several training phases, restore the best epoch of
    # any phase ("any") or of the final phase only ("final_phase"); one phase: no difference

    def __post_init__(self) -> None:
        if self.epochs < 0:
            raise ConfigError("epochs", f"must be >= 0, got {self.epochs}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError("lr", f"learning rate must be a positive number, got {self.lr}")
        check_number("weight_decay", self.weight_decay)
        if self.batch_size <= 0:
            raise ConfigError("batch_size", f"must be > 0, got {self.batch_size}")
        if self.patience < 0:
            raise ConfigError("patience", f"must be >= 0, got {self.patience}")
        if self.eval_every <= 0:
            raise ConfigError("eval_every", f"must be > 0, got {self.eval_every}")
        if self.device not in ("auto", "cpu", "cuda", "mps"):
            raise ConfigError("device", f"allowed: auto, cpu, cuda, mps; got {self.device!r}")
        check_number("grad_clip", self.grad_clip)
        if not 0 <= self.seed <= MAX_SEED:
            raise ConfigError("seed", f"must be in 0..{MAX_SEED} (2**63 - 1), got {self.seed}")
        if self.threads < 0:
            raise ConfigError("threads", f"must be >= 0 (0: torch's default), got {self.threads}")
        if self.select_best not in SELECT_BEST:
            raise ConfigError("select_best", f"allowed: {', '.join(SELECT_BEST)}; got {self.select_best!r}")
        check_monitor(self.monitor)


def check_monitor(monitor: str, eval_config: EvalConfig | None = None) -> None:
    """ConfigError naming `monitor` unless it is `name@k`, a metric validation reports: name one
    of `eval_config.metrics` (all known metrics without it), k one of `eval_config.ks`. Names
    are lower case, as validation reports them ("NDCG@10" is refused, naming "ndcg@10"): any
    other spelling is never found, every validation reads NaN and no epoch is ever selected."""
    names = tuple(eval_config.metrics) if eval_config is not None else METRIC_NAMES
    ks = tuple(eval_config.ks) if eval_config is not None else None
    allowed = f"name@k with name one of {', '.join(names)}" + (f" and k one of {', '.join(map(str, ks))}" if ks else "")
    name, at, k = str(monitor).partition("@")
    if not at or not k.isdigit() or int(k) <= 0:
        raise ConfigError("monitor", f"{monitor!r} is not a validation metric; allowed: {allowed}")
    if name not in names:
        hint = f" (names are lower case: {name.lower()}@{k})" if name.lower() in names else ""
        raise ConfigError("monitor", f"{monitor!r}: unknown metric {name!r}{hint}; allowed: {allowed}")
    if ks is not None and int(k) not in ks:
        raise ConfigError("monitor", f"{monitor!r}: validation computes no cutoff {k} (eval.ks); allowed: {allowed}")
