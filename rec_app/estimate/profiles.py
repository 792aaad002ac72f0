"""How long a run will take, and when it will be done behind the queue, before it is launched.

Every number comes from seconds measured on this machine, never from hardware names. A
`Profile` holds what one run of a cost signature (model kind, backbone, text length, cache /
attention / LoRA switches, sizes, batch size, device) spends on each part, per training phase:
reading and splitting the data, building the model, encoding texts (cold cache), one training
epoch, one validation pass, the final test. Two sources, the first that applies wins:

1. finished runs in the store with the same signature (their timings and history), on the
   same dataset if any, else scaled from another one (`rec_app.estimate.observed`);
2. a calibration (`rec_app.estimate.calibration`): a few real training steps, a validation and a test
   pass of these settings on the target dataset itself, in a background process.

A busy machine: seconds measured while other work shared the cores are slower than the same
run on an idle machine, and a run launched now meets the load there is now. Each profile keeps
the `busy_factor` it was measured under (`rec_core.runs.load`: the other runnable threads a
calibration or a run sampled as it worked), and `estimate(..., busy=)` prices it for the factor
now (other work's runnable threads over the last minute, our own runs and calibrations left
out; more runs at once when the queue runs several side by side). A running run is priced from
its own pace so far (`remaining_s`). Processor sharing is all this models: a model of many tiny
operations over several OpenMP threads can be slowed far more on a busy machine (every operation
waits for its slowest thread): the app runs such models on one core fewer than the machine has
(`rec_app.train.launch.with_app_threads`).

Costs scale linearly (training with the training interactions, evaluation with users x items,
encoding with the number of texts) only when the profile comes from another dataset. A run
with several phases (scheme 3: cached epochs, then dynamic ones) is priced phase by phase. The
queue is simulated: runs ahead (what is left of the running ones, all of the queued ones) are
placed on the free slots first (`schedule`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from rec_app.runs.table import RunRow
from rec_core.configs import sub_table
from rec_core.data.sizes import KNOWN_SIZES, DatasetSize, dataset_size
from rec_core.runs.load import cores
from rec_core.runs.summary import parse_time

__all__ = [
    "DatasetSize",
    "Estimate",
    "Profile",
    "KNOWN_SIZES",
    "dataset_size",
    "cost_signature",
    "data_key",
    "fits_per_run",
    "encode_signature",
    "phase_plan",
    "validations",
    "estimate",
    "prior_profile",
    "schedule",
    "remaining_s",
    "confirm_over_s",
    "needs_confirmation",
    "COLD_STARTUP_S",
    "WARM_STARTUP_S",
    "TEXT_MODELS",
    "CLOSED_FORM_MODELS",
    "rescale",
    "with_processes",
    "run_threads",
    "trained_s",
    "worker_starts",
    "PACE_MIN_S",
]

COLD_STARTUP_S = 10.0  # a fresh process's imports, until a calibration has timed them here
PACE_MIN_S = 3.0  # a running run is priced from its own pace once it trained this long (estimated seconds)
WARM_STARTUP_S = 1.0  # handing a run to the queue's warm worker (bench/bench_app.py measures it)
TEXT_MODELS = ("gpt2rec", "enhanced")
# Models with no gradient epochs: one fit (and one validation) per candidate of their
# `<name>_grid` fields instead (rec_core/train/closed_form.py); Popularity has one.
CLOSED_FORM_MODELS = ("pop", "ease", "itemknn")
# Model fields that change how long an epoch takes; the rest (lr, dropout, ...) do not.
_COST_FIELDS = (
    "name",
    "embed_dim",
    "backbone",
    "max_length",
    "use_cache",
    "use_attention",
    "freeze_gpt2",
    "use_peft",
    "n_heads",
    "lora_rank",
    "dynamic_layers",
    "cached_epochs",
    "use_user_text",
    "text_rank",
    "contrastive_sample",
)


@dataclass(frozen=True)
class Profile:
    """Seconds one run of a cost signature spends on each part, measured on one dataset."""

    n_train: int  # training interactions of the dataset it was measured on
    n_users: int
    n_items: int
    epoch_s: Mapping[str, float]  # phase -> one training epoch ("fit" -> one closed-form candidate)
    valid_s: Mapping[str, float]  # phase -> one validation pass
    load_s: float = 0.0  # reading and splitting the data
    build_s: float = 0.0  # building the model (text features read from a warm cache), preparing it
    encode_s: float = 0.0  # more when the texts must be encoded first (cold cache)
    test_s: float = 0.0  # the final validation and test passes, tables and checkpoint
    startup_s: float | None = None  # a fresh process's imports (None: not measured)
    # `rec_core.runs.load.busy_factor` while these seconds were measured: 1.0 = as on an idle
    # machine, 2.0 = twice as slow (other work shared the cores); None: not known (not scaled).
    busy: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> Profile:
        return Profile(
            int(d["n_train"]),
            int(d["n_users"]),
            int(d["n_items"]),
            {str(k): float(v) for k, v in dict(d["epoch_s"]).items()},
            {str(k): float(v) for k, v in dict(d["valid_s"]).items()},
            float(d.get("load_s", 0.0)),
            float(d.get("build_s", 0.0)),
            float(d.get("encode_s", 0.0)),
            float(d.get("test_s", 0.0)),
            None if d.get("startup_s") is None else float(d["startup_s"]),
            None if d.get("busy") is None else float(d["busy"]),
        )

    def scaled(self, size: DatasetSize, n_train: int) -> Profile:
        """This profile moved to a dataset of `size` with `n_train` training interactions."""
        if (size.n_users, size.n_items, n_train) == (self.n_users, self.n_items, self.n_train):
            return self
        train = n_train / max(1, self.n_train)
        scores = size.n_users * size.n_items / max(1, self.n_users * self.n_items)
        texts = (size.n_users + size.n_items) / max(1, self.n_users + self.n_items)
        return Profile(
            n_train,
            size.n_users,
            size.n_items,
            {k: v * train for k, v in self.epoch_s.items()},
            {k: v * scores for k, v in self.valid_s.items()},
            self.load_s * train,
            self.build_s * texts,
            self.encode_s * texts,
            self.test_s * scores,
            self.startup_s,
            self.busy,
        )

    def idle(self) -> Profile:
        """The same costs as on an idle machine (this one when its load is not known)."""
        if self.busy is None or self.busy == 1.0:
            return self
        k = 1.0 / self.busy
        return replace(
            self,
            epoch_s={n: v * k for n, v in self.epoch_s.items()},
            valid_s={n: v * k for n, v in self.valid_s.items()},
            load_s=self.load_s * k,
            build_s=self.build_s * k,
            encode_s=self.encode_s * k,
            test_s=self.test_s * k,
            startup_s=None if self.startup_s is None else self.startup_s * k,
            busy=1.0,
        )


@dataclass(frozen=True)
class Estimate:
    total_s: float  # one run, start-up included
    parts: dict[str, float] = field(default_factory=dict)  # startup, loading, encoding, training, evaluation, testing
    basis: str = "runs"  # runs | calibration | prior (rough: the project's benchmarks, nothing measured here)
    n_runs: int = 0  # finished runs the costs come from (basis "runs")
    measured_at: str | None = None  # when the calibration was made (basis "calibration")
    cache_warm: bool = False  # the text features are probably cached already
    same_data: bool = True  # measured on this dataset (else scaled from another one)
    early_stop_possible: bool = False  # patience can end the run before its last epoch
    busy: float | None = None  # the busy factor these seconds are priced for (None: as measured, load unknown)
    scale: float = 1.0  # that factor over the one the costs were measured under
    epoch_s: tuple[float, ...] = ()  # each epoch's training + validation seconds, in run order
    fresh_start_s: float = COLD_STARTUP_S  # a fresh process's imports here (the warm worker's, see `worker_starts`)


def _model(config: Mapping[str, Any]) -> dict[str, Any]:
    return sub_table(config, "model")


def _train(config: Mapping[str, Any]) -> dict[str, Any]:
    return sub_table(config, "train")


def train_fraction(split: Mapping[str, Any]) -> float:
    """Share of interactions in the training part (approximate for loo and cold-items)."""
    kind = split.get("kind", "ratio")
    if kind == "ratio":
        return float((split.get("ratios") or [0.8])[0])
    if kind == "cold-items":
        folds = split.get("folds")  # k item folds: one fold's items held out
        return 1.0 - (1.0 / float(folds) if folds else float(split.get("cold_fraction", 0.2)))
    return 0.95  # loo: two interactions per user held out


def fits_per_run(config: Mapping[str, Any]) -> int:
    """Training rounds of a run: epochs, or for a closed-form model its number of grid
    candidates (each fitted and validated once; history has one record per candidate)."""
    model = _model(config)
    if model.get("name") not in CLOSED_FORM_MODELS:
        return int(_train(config).get("epochs", 1))
    n = 1
    for key, value in model.items():
        if key.endswith("_grid"):
            n *= max(1, len(value.split(",")) if isinstance(value, str) else len(value or ()))
    return n


def cost_signature(config: Mapping[str, Any]) -> str:
    """Key of the settings that decide the seconds per epoch and per validation."""
    model = _model(config)
    train = _train(config)
    key = {f: model.get(f) for f in _COST_FIELDS if f in model}
    key["cached_epochs"] = bool(model.get("cached_epochs"))
    key["contrastive"] = bool(model.get("contrastive_weight"))
    key["batch_size"] = train.get("batch_size")
    key["device"] = train.get("device", "auto")
    if train.get("threads"):  # only when set: the signatures of runs on torch's default stay as they were
        key["threads"] = int(train["threads"])
    return json.dumps(key, sort_keys=True)


def data_key(config: Mapping[str, Any]) -> str:
    """Key of the dataset and split a profile was measured on (a different seed splits the
    same sizes: not part of it)."""
    split = {k: v for k, v in sub_table(config, "split").items() if k != "seed"}
    return json.dumps({"data": sub_table(config, "data"), "split": split}, sort_keys=True, default=str)


def encode_signature(config: Mapping[str, Any]) -> str | None:
    """Key of what text encoding costs: backbone and length; None for ID-only models."""
    model = _model(config)
    if model.get("name") not in TEXT_MODELS:
        return None
    return json.dumps({"backbone": model.get("backbone"), "max_length": model.get("max_length")}, sort_keys=True)


def phase_plan(config: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(phase name, epochs) of a run, as its history names them: the enhanced model's
    `fit_phases` rule (scheme 3: `cached_epochs`, -1 for half, in cache mode, then the
    rest dynamic; a test keeps the two in step), "fit" x candidates for closed-form models,
    one "train" phase otherwise."""
    model, epochs = _model(config), int(_train(config).get("epochs", 1))
    name = model.get("name")
    if name in CLOSED_FORM_MODELS:
        return [("fit", fits_per_run(config))]
    if name != "enhanced":
        return [("train", epochs)]
    use_cache = bool(model.get("use_cache", True))
    cached_epochs = int(model.get("cached_epochs") or 0)
    trainable = bool(model.get("use_peft")) or not bool(model.get("freeze_gpt2", True))
    if cached_epochs == 0 or not trainable:
        return [("cached" if use_cache else "dynamic", epochs)]
    cached = epochs // 2 if cached_epochs < 0 else min(cached_epochs, epochs)
    return [("cached", cached), ("dynamic", epochs - cached)]


def validations(config: Mapping[str, Any]) -> dict[str, int]:
    """Validation passes per phase: epochs e with e % eval_every == 0 or e == 1 (counted over
    the whole run, as the trainer does), plus the initial one of a warm start."""
    every = max(1, int(_train(config).get("eval_every", 1)))
    out: dict[str, int] = {}
    epoch = 0
    for name, n in phase_plan(config):
        if name == "fit":
            return {}
        count = 0
        for _ in range(n):
            epoch += 1
            count += epoch % every == 0 or epoch == 1
        out[name] = out.get(name, 0) + count
    if _model(config).get("init_from_run") and out:
        first = next(iter(out))
        out[first] += 1
    return out


def run_threads(config: Mapping[str, Any]) -> int:
    """CPU threads a run of `config` computes with: `train.threads`, else torch's default (the cores)."""
    return int(_train(config).get("threads") or 0) or cores()


# Before anything was measured on this machine: one run's parts on ML-100K (80,000 training
# interactions of 943 users and 1,682 items), one torch thread of a 2-core machine, from the
# committed benchmarks (bench/results/speed_epochs.json, app_estimate.json, speed_dynamic.json).
# A rough number, shown only while this machine's own calibration runs, and labelled so.
_PRIOR_EPOCH_S = {"mf": 0.15, "gpt2rec": 0.6, "pop": 0.0}
_PRIOR_ENHANCED_S = {"cached": 1.2, "cached_no_attention": 0.6, "dynamic": 240.0}
_PRIOR_FIT_S = {"ease": 4.0, "itemknn": 2.0}  # one closed-form candidate


def prior_profile(config: Mapping[str, Any]) -> Profile:
    """Rough costs of `config` on ML-100K from the project's benchmarks (`basis="prior"`): what
    the Train page shows while its calibration of this machine is still running."""
    model = _model(config)
    kind = str(model.get("name", "mf"))
    if kind in _PRIOR_FIT_S:
        epoch_s = {"fit": _PRIOR_FIT_S[kind]}
    elif kind == "enhanced":
        cached = _PRIOR_ENHANCED_S["cached" if model.get("use_attention", True) else "cached_no_attention"]
        epoch_s = {"cached": cached, "dynamic": _PRIOR_ENHANCED_S["dynamic"]}
    else:
        epoch_s = {"train": _PRIOR_EPOCH_S.get(kind, 0.6)}
    valid = 0.5 if kind in ("enhanced", "gpt2rec") else 0.1
    text = encode_signature(config) is not None
    return Profile(
        n_train=80_000,
        n_users=943,
        n_items=1682,
        epoch_s=epoch_s,
        valid_s={name: valid for name in epoch_s},
        load_s=0.5,
        build_s=5.0 if text else 0.2,
        encode_s=60.0 if text else 0.0,
        test_s=2.0 if text else 0.5,
        startup_s=COLD_STARTUP_S,
    )


def estimate(
    config: Mapping[str, Any],
    size: DatasetSize,
    profile: Profile,
    *,
    cache_warm: bool,
    startup_s: float | None = None,
    basis: str = "runs",
    n_runs: int = 0,
    measured_at: str | None = None,
    busy: float | None = None,
) -> Estimate:
    """Seconds of one run of `config` on a dataset of `size`, from `profile` (scaled when it
    was measured on another dataset). `startup_s`: the process start to count (default: the
    profile's, else COLD_STARTUP_S). `busy`: the busy factor to price for (1.0: an idle
    machine); every part is scaled by it over the profile's own (not when that is unknown)."""
    n_train = int(size.n_interactions * train_fraction(sub_table(config, "split")))
    same = (size.n_users, size.n_items) == (profile.n_users, profile.n_items)
    p = profile if same else profile.scaled(size, n_train)
    if startup_s is None:
        startup_s = profile.startup_s if profile.startup_s is not None else COLD_STARTUP_S
    scale = busy / p.busy if busy is not None and p.busy else 1.0
    training = evaluation = 0.0
    for name, epochs in phase_plan(config):
        training += epochs * p.epoch_s.get(name, max(p.epoch_s.values(), default=0.0))
    for name, count in validations(config).items():
        evaluation += count * p.valid_s.get(name, max(p.valid_s.values(), default=0.0))
    every, epoch, per_epoch = max(1, int(_train(config).get("eval_every", 1))), 0, []
    for name, epochs in phase_plan(config):
        for _ in range(epochs):
            epoch += 1
            valid = epoch % every == 0 or epoch == 1
            per_epoch.append(
                scale
                * (
                    p.epoch_s.get(name, max(p.epoch_s.values(), default=0.0))
                    + (p.valid_s.get(name, max(p.valid_s.values(), default=0.0)) if valid else 0.0)
                )
            )
    text = encode_signature(config) is not None
    parts = {
        "startup": startup_s,
        "loading": p.load_s + p.build_s,
        "encoding": 0.0 if cache_warm or not text else p.encode_s,
        "training": training,
        "evaluation": evaluation,
        "testing": p.test_s,
    }
    train = _train(config)
    patience = int(train.get("patience") or 0)
    early = 0 < patience < int(train.get("epochs", 1)) and _model(config).get("name") not in CLOSED_FORM_MODELS
    parts = {k: v * scale for k, v in parts.items()}
    # A calibration times a fresh process's imports; a run's recorded start may be a warm hand-over.
    fresh = profile.startup_s if basis == "calibration" and profile.startup_s is not None else COLD_STARTUP_S
    return Estimate(
        sum(parts.values()),
        parts,
        basis,
        n_runs,
        measured_at,
        cache_warm,
        same,
        early,
        busy if busy is not None and p.busy else p.busy,
        scale,
        tuple(per_epoch),
        fresh * scale,
    )


def with_processes(found: Estimate, processes: int, fresh_start_s: float) -> Estimate:
    """`found` (one process) started as a run of `processes` > 1: torchrun's launcher and then
    each of its processes start fresh (never the warm worker), each importing torch, the
    processes sharing the cores. Priced as a fresh start for the launcher plus one per round of
    processes the cores hold at once (2 processes on 2 cores: 2 x 10 s, where one process
    handed to the warm worker costs 1 s; the walk measured 17 s more than the estimate)."""
    if processes <= 1:
        return found
    startup = fresh_start_s * (1 + -(-processes // cores()))
    return replace(
        found,
        total_s=found.total_s - found.parts.get("startup", 0.0) + startup,
        parts={**found.parts, "startup": startup},
    )


def rescale(found: Estimate, busy: float | None) -> Estimate:
    """`found` priced for the busy factor `busy` instead of its own (unchanged when either is
    unknown: its costs' load was not measured, or there is no load average)."""
    if busy is None or found.busy is None or busy == found.busy:
        return found
    k = busy / found.busy
    return replace(
        found,
        total_s=found.total_s * k,
        parts={n: v * k for n, v in found.parts.items()},
        busy=busy,
        scale=found.scale * k,
        epoch_s=tuple(v * k for v in found.epoch_s),
        fresh_start_s=found.fresh_start_s * k,
    )


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


# -- the queue ------------------------------------------------------------------------------------
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


# -- when a launch needs a confirmation -------------------------------------------------------------
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
