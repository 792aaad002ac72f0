"""What one run costs: the seconds a `Profile` measured per part and phase, priced for a config.

A `Profile` holds what one run of a cost signature (model kind, backbone, text length, cache /
attention / LoRA switches, sizes, batch size, device) spent on each part, per training phase:
reading and splitting the data, building the model, encoding texts (cold cache), one epoch, one
validation pass, the final test, and the busy factor it was measured under
(`rec_core.runs.load`). `estimate` prices it for a config: scaled linearly when measured on
another dataset (training with the training interactions, evaluation with users x items,
encoding with the texts), phase by phase (scheme 3: cached epochs, then dynamic ones), and for
the load there is now (`busy`). Every number is measured on this machine, never derived from
hardware names; `prior_profile` is the one rough exception, labelled so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from rec_core.configs import sub_table
from rec_core.data.sizes import DatasetSize
from rec_core.runs.load import busy_factor, cores

COLD_STARTUP_S = 10.0  # a fresh process's imports, until a calibration has timed them here
WARM_STARTUP_S = 1.0  # handing a run to the queue's warm worker (bench/bench_app.py measures it)
TEXT_MODELS = ("gpt2rec", "enhanced")
# No gradient epochs: one fit (and validation) per candidate of their `<name>_grid` fields.
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
    busy: float | None = None  # busy factor while measured (1.0: idle machine; None: unknown, not scaled)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> Profile:
        def maybe(key: str) -> float | None:
            return None if d.get(key) is None else float(d[key])

        def phase(key: str) -> dict[str, float]:
            return {str(k): float(v) for k, v in dict(d[key]).items()}

        def part(key: str) -> float:
            return float(d.get(key, 0.0))

        return Profile(
            int(d["n_train"]), int(d["n_users"]), int(d["n_items"]), phase("epoch_s"), phase("valid_s"), part("load_s"),
            part("build_s"), part("encode_s"), part("test_s"), maybe("startup_s"), maybe("busy"),
        )  # fmt: skip

    def _times(self, epoch: float, valid: float, load: float, text: float, test: float, **changes: Any) -> Profile:
        """Each part times its factor (build and encode: `text`), with `changes` on top."""
        return replace(
            self,
            epoch_s={n: v * epoch for n, v in self.epoch_s.items()},
            valid_s={n: v * valid for n, v in self.valid_s.items()},
            load_s=self.load_s * load,
            build_s=self.build_s * text,
            encode_s=self.encode_s * text,
            test_s=self.test_s * test,
            **changes,
        )

    def scaled(self, size: DatasetSize, n_train: int) -> Profile:
        """This profile moved to a dataset of `size` with `n_train` training interactions."""
        if (size.n_users, size.n_items, n_train) == (self.n_users, self.n_items, self.n_train):
            return self
        train = n_train / max(1, self.n_train)
        scores = size.n_users * size.n_items / max(1, self.n_users * self.n_items)
        texts = (size.n_users + size.n_items) / max(1, self.n_users + self.n_items)
        return self._times(train, scores, train, texts, scores, n_train=n_train, n_users=size.n_users, n_items=size.n_items)  # fmt: skip

    def idle(self) -> Profile:
        """The same costs as on an idle machine (this one when its load is not known)."""
        if self.busy is None or self.busy == 1.0:
            return self
        k = 1.0 / self.busy
        return self._times(k, k, k, k, k, startup_s=None if self.startup_s is None else self.startup_s * k, busy=1.0)


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
    model, train = _model(config), _train(config)
    key = {f: model.get(f) for f in _COST_FIELDS if f in model}
    key["cached_epochs"] = bool(model.get("cached_epochs"))
    key["contrastive"] = bool(model.get("contrastive_weight"))
    key["batch_size"] = train.get("batch_size")
    key["device"] = train.get("device", "auto")
    if train.get("threads"):  # only when set: the signatures of runs on torch's default stay as they were
        key["threads"] = int(train["threads"])
    return json.dumps(key, sort_keys=True)


def data_key(config: Mapping[str, Any]) -> str:
    """Key of the dataset and split a profile was measured on (a seed splits the same sizes)."""
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
    `fit_phases` rule (scheme 3: `cached_epochs`, -1 for half, in cache mode, then the rest
    dynamic; a test keeps the two in step), "fit" x candidates for closed-form models, one
    "train" phase otherwise."""
    model, epochs = _model(config), int(_train(config).get("epochs", 1))
    name = model.get("name")
    if name in CLOSED_FORM_MODELS:
        return [("fit", fits_per_run(config))]
    if name != "enhanced":
        return [("train", epochs)]
    cached_epochs = int(model.get("cached_epochs") or 0)
    trainable = bool(model.get("use_peft")) or not bool(model.get("freeze_gpt2", True))
    if cached_epochs == 0 or not trainable:
        return [("cached" if bool(model.get("use_cache", True)) else "dynamic", epochs)]
    cached = epochs // 2 if cached_epochs < 0 else min(cached_epochs, epochs)
    return [("cached", cached), ("dynamic", epochs - cached)]


def _validated(epoch: int, every: int) -> bool:
    return epoch % every == 0 or epoch == 1  # as the trainer validates


def validations(config: Mapping[str, Any]) -> dict[str, int]:
    """Validation passes per phase (epochs validated over the whole run, as the trainer does),
    plus the initial one of a warm start; none for closed-form models."""
    every = max(1, int(_train(config).get("eval_every", 1)))
    out: dict[str, int] = {}
    epoch = 0
    for name, n in phase_plan(config):
        if name == "fit":
            return {}
        out[name] = out.get(name, 0) + sum(_validated(e, every) for e in range(epoch + 1, epoch + n + 1))
        epoch += n
    if _model(config).get("init_from_run") and out:
        out[next(iter(out))] += 1
    return out


def run_threads(config: Mapping[str, Any]) -> int:
    """CPU threads a run of `config` computes with: `train.threads`, else torch's default (the cores)."""
    return int(_train(config).get("threads") or 0) or cores()


def busy_for(config: Mapping[str, Any], others: float | None, alongside: int = 0) -> float | None:
    """The busy factor a run of `config` meets with `others` runnable threads of other work and
    `alongside` of our runs beside it (each its threads); None when `others` is unknown."""
    if others is None:
        return None
    threads = run_threads(config)
    return busy_factor(others + alongside * threads, threads)


# Before anything was measured here: one run's parts on ML-100K (80,000 training interactions,
# 943 users, 1,682 items), one torch thread of a 2-core machine, from the committed benchmarks
# (bench/results/speed_epochs.json, app_estimate.json, speed_dynamic.json). Shown only while
# this machine's own calibration runs, labelled rough.
_PRIOR_EPOCH_S = {"mf": 0.15, "gpt2rec": 0.6, "pop": 0.0}
_PRIOR_ENHANCED_S = {"cached": 1.2, "cached_no_attention": 0.6, "dynamic": 240.0}
_PRIOR_FIT_S = {"ease": 4.0, "itemknn": 2.0}  # one closed-form candidate


def prior_profile(config: Mapping[str, Any]) -> Profile:
    """Rough costs of `config` on ML-100K from the project's benchmarks (`basis="prior"`)."""
    model = _model(config)
    kind = str(model.get("name", "mf"))
    if kind in _PRIOR_FIT_S:
        epoch_s = {"fit": _PRIOR_FIT_S[kind]}
    elif kind == "enhanced":
        cached = _PRIOR_ENHANCED_S["cached" if model.get("use_attention", True) else "cached_no_attention"]
        epoch_s = {"cached": cached, "dynamic": _PRIOR_ENHANCED_S["dynamic"]}
    else:
        epoch_s = {"train": _PRIOR_EPOCH_S.get(kind, 0.6)}
    valid = 0.5 if kind in TEXT_MODELS else 0.1
    text = encode_signature(config) is not None
    return Profile(
        80_000,
        943,
        1682,
        epoch_s,
        {name: valid for name in epoch_s},
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

    def epoch_cost(name: str) -> float:
        return p.epoch_s.get(name, max(p.epoch_s.values(), default=0.0))

    def valid_cost(name: str) -> float:
        return p.valid_s.get(name, max(p.valid_s.values(), default=0.0))

    train = _train(config)
    every, epoch, per_epoch, training = max(1, int(train.get("eval_every", 1))), 0, [], 0.0
    for name, epochs in phase_plan(config):
        training += epochs * epoch_cost(name)
        for _ in range(epochs):
            epoch += 1
            per_epoch.append(scale * (epoch_cost(name) + (valid_cost(name) if _validated(epoch, every) else 0.0)))
    parts = {
        "startup": startup_s,
        "loading": p.load_s + p.build_s,
        "encoding": 0.0 if cache_warm or encode_signature(config) is None else p.encode_s,
        "training": training,
        "evaluation": sum(count * valid_cost(name) for name, count in validations(config).items()),
        "testing": p.test_s,
    }
    patience = int(train.get("patience") or 0)
    early = 0 < patience < int(train.get("epochs", 1)) and _model(config).get("name") not in CLOSED_FORM_MODELS
    parts = {k: v * scale for k, v in parts.items()}
    # A calibration times a fresh process's imports; a run's recorded start may be a warm hand-over.
    fresh = profile.startup_s if basis == "calibration" and profile.startup_s is not None else COLD_STARTUP_S
    priced_for = busy if busy is not None and p.busy else p.busy
    return Estimate(
        sum(parts.values()), parts, basis, n_runs, measured_at, cache_warm, same, early, priced_for, scale,
        tuple(per_epoch), fresh * scale,
    )  # fmt: skip


def with_processes(found: Estimate, processes: int, fresh_start_s: float) -> Estimate:
    """`found` (one process) started as a run of `processes` > 1: torchrun's launcher and then
    each of its processes start fresh (never the warm worker), sharing the cores: a fresh start
    for the launcher plus one per round of processes the cores hold at once."""
    if processes <= 1:
        return found
    startup = fresh_start_s * (1 + -(-processes // cores()))
    parts = {**found.parts, "startup": startup}
    return replace(found, total_s=found.total_s - found.parts.get("startup", 0.0) + startup, parts=parts)


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
