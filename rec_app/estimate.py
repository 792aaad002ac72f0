"""How long a run will take, before it is launched, from costs measured on this machine.

Two sources, both measured here, never guessed from hardware names:

1. Finished runs in the store with the same cost-relevant settings (model kind, backbone,
   text length, cache / attention / LoRA switches, embedding size, batch size, device):
   their seconds per training triple, per scored (user, item) pair and per encoded text.
2. A calibration: the same settings run for one epoch on a small synthetic dataset in a
   background process (`python -m rec_app.estimate measure ...`), cached in the runs
   folder (`.calibration.json`). It also times the process start (imports).

Costs scale linearly with the target dataset (triples, users x items, texts); that is the
main approximation, and the page says which source an estimate is based on.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rec_app.run_table import RunRow
from rec_core.configs import sub_table
from rec_core.data.sizes import KNOWN_SIZES, DatasetSize, dataset_size
from rec_core.runs.atomic import CorruptRunFile, RunFileNotFound, file_lock, read_json, write_json_atomic
from rec_core.runs.environment import pid_alive

__all__ = ["DatasetSize", "Estimate", "UnitCosts", "KNOWN_SIZES", "dataset_size", "cost_signature", "fits_per_run",
           "encode_signature", "observed_costs", "calibration_costs", "estimate", "cache_likely_warm", "calibration_error",
           "start_measurement", "measurement_pending", "CALIBRATION_FILE", "DEFAULT_STARTUP_S"]

CALIBRATION_FILE = ".calibration.json"
DEFAULT_STARTUP_S = 15.0  # used only until a calibration has timed the imports on this machine
TEXT_MODELS = ("gpt2rec", "enhanced")
# Models with no gradient epochs: one fit (and one validation) per candidate of their
# `<name>_grid` fields instead (rec_core/train/closed_form.py); Popularity has one.
CLOSED_FORM_MODELS = ("pop", "ease", "itemknn")
# Model fields that change how long an epoch takes; the rest (lr, dropout, ...) do not.
_COST_FIELDS = ("name", "embed_dim", "backbone", "max_length", "use_cache", "use_attention", "freeze_gpt2",
                "use_peft", "n_heads", "lora_rank", "dynamic_layers", "cached_epochs", "use_user_text")


@dataclass(frozen=True)
class UnitCosts:
    train_s_per_triple: float  # one (user, pos, neg) triple through forward + backward
    eval_s_per_score: float  # one (user, item) score in a full-ranking pass
    encode_s_per_text: float = 0.0  # one text through the frozen backbone (cold cache)
    load_s: float = 0.0  # building the model with a warm cache (backbone load, cache read)
    startup_s: float | None = None  # process start: imports (calibration only)


@dataclass(frozen=True)
class Estimate:
    total_s: float
    parts: dict[str, float] = field(default_factory=dict)  # startup, encoding, training, evaluation
    basis: str = "runs"  # runs | calibration
    n_runs: int = 0  # finished runs the costs come from (basis "runs")
    measured_at: str | None = None  # when the calibration was made (basis "calibration")
    cache_warm: bool = False  # the text features are probably cached already


def train_fraction(split: dict[str, Any]) -> float:
    """Share of interactions in the training part (approximate for loo and cold-items)."""
    kind = split.get("kind", "ratio")
    if kind == "ratio":
        return float((split.get("ratios") or [0.8])[0])
    if kind == "cold-items":
        return 1.0 - float(split.get("cold_fraction", 0.2))
    return 0.95  # loo: two interactions per user held out


def _model(config: dict[str, Any]) -> dict[str, Any]:
    return sub_table(config, "model")


def fits_per_run(config: dict[str, Any]) -> int:
    """Training rounds of a run: epochs, or for a closed-form model its number of grid
    candidates (each fitted and validated once; history has one record per candidate)."""
    model = _model(config)
    if model.get("name") not in CLOSED_FORM_MODELS:
        return int((config.get("train") or {}).get("epochs", 1))
    n = 1
    for key, value in model.items():
        if key.endswith("_grid"):
            n *= max(1, len(value.split(",")) if isinstance(value, str) else len(value or ()))
    return n


def cost_signature(config: dict[str, Any]) -> str:
    """Key of the settings that decide the seconds per triple and per score."""
    model = _model(config)
    train = config.get("train") or {}
    key = {f: model.get(f) for f in _COST_FIELDS if f in model}
    key["cached_epochs"] = bool(model.get("cached_epochs"))
    key["contrastive"] = bool(model.get("contrastive_weight"))
    key["batch_size"] = train.get("batch_size")
    key["device"] = train.get("device", "auto")
    return json.dumps(key, sort_keys=True)


def encode_signature(config: dict[str, Any]) -> str | None:
    """Key of what text encoding costs: backbone and length; None for ID-only models."""
    model = _model(config)
    if model.get("name") not in TEXT_MODELS:
        return None
    return json.dumps({"backbone": model.get("backbone"), "max_length": model.get("max_length")}, sort_keys=True)


def _costs_of_run(results: dict[str, Any], history: Sequence[dict[str, Any]]) -> dict[str, float] | None:
    try:
        timings, data, split = results["timings"], results["dataset"], results["split"]
        n_train, n_users, n_items = int(split["n_train"]), int(data["n_users"]), int(data["n_items"])
        epoch_s = float(timings["epoch_s_mean"])
    except (KeyError, TypeError, ValueError):
        return None
    if n_train <= 0 or epoch_s <= 0:
        return None
    evals = [float(h["eval_seconds"]) for h in history if isinstance(h.get("eval_seconds"), (int, float))]
    out = {"train": epoch_s / n_train, "eval": statistics.median(evals) / (n_users * n_items) if evals else math.nan,
           "build": float(timings.get("build_model_s", 0.0)), "texts": float(n_users + n_items)}
    hits = (results.get("model_info") or {}).get("text_cache_hits")
    out["cold"] = float(isinstance(hits, dict) and not any(hits.values()))
    return out


def observed_costs(config: dict[str, Any], rows: Sequence[RunRow],
                   read: Callable[[str], tuple[dict[str, Any] | None, list[dict[str, Any]]]]
                   ) -> tuple[UnitCosts, int] | None:
    """Median unit costs over finished runs with the same cost signature; (costs, n_runs).

    `read(run_id)` returns (results, history). Encoding cost comes from any finished run with
    the same backbone and text length whose text cache was cold.
    """
    sig, enc_sig = cost_signature(config), encode_signature(config)
    same: list[dict[str, float]] = []
    encodes: list[dict[str, float]] = []
    loads: list[dict[str, float]] = []
    for row in rows:
        if not row.comparable:
            continue
        row_sig, row_enc = cost_signature(row.config), encode_signature(row.config)
        if row_sig != sig and (enc_sig is None or row_enc != enc_sig):
            continue
        results, history = read(row.run_id)
        costs = _costs_of_run(results or {}, history)
        if costs is None:
            continue
        if row_sig == sig:
            same.append(costs)
        if enc_sig is not None and row_enc == enc_sig:
            (encodes if costs["cold"] else loads).append(costs)
    if not same:
        return None
    load = statistics.median(c["build"] for c in loads) if loads else 0.0
    encode = statistics.median(max(0.0, c["build"] - load) / c["texts"] for c in encodes) if encodes else 0.0
    evals = [c["eval"] for c in same if math.isfinite(c["eval"])]
    return UnitCosts(train_s_per_triple=statistics.median(c["train"] for c in same),
                     eval_s_per_score=statistics.median(evals) if evals else 0.0,
                     encode_s_per_text=encode, load_s=load), len(same)


def _read_calibration(root: Path) -> dict[str, Any]:
    try:
        return read_json(root / CALIBRATION_FILE)
    except (RunFileNotFound, CorruptRunFile, OSError):
        return {}


def calibration_costs(config: dict[str, Any], runs_root: str | Path) -> tuple[UnitCosts, str] | None:
    """(costs, measured_at) from the calibration file, if these settings were measured."""
    entry = (_read_calibration(Path(runs_root)).get("entries") or {}).get(cost_signature(config))
    if not isinstance(entry, dict):
        return None
    try:
        return UnitCosts(float(entry["train_s_per_triple"]), float(entry["eval_s_per_score"]),
                         float(entry.get("encode_s_per_text", 0.0)), float(entry.get("load_s", 0.0)),
                         float(entry["startup_s"]) if entry.get("startup_s") is not None else None
                         ), str(entry.get("measured_at", ""))
    except (KeyError, TypeError, ValueError):
        return None


def calibration_error(config: dict[str, Any], runs_root: str | Path) -> str | None:
    """The error of the last calibration of these settings, if it failed."""
    entry = (_read_calibration(Path(runs_root)).get("entries") or {}).get(cost_signature(config))
    return str(entry["error"]) if isinstance(entry, dict) and entry.get("error") else None


def cache_likely_warm(config: dict[str, Any], rows: Sequence[RunRow]) -> bool:
    """Whether a finished run already encoded the same texts with the same backbone and length."""
    enc_sig = encode_signature(config)
    if enc_sig is None:
        return True  # nothing to encode
    return any(r.state in ("done", "stopped") and encode_signature(r.config) == enc_sig
               and r.config.get("data") == config.get("data") for r in rows)


def estimate(config: dict[str, Any], size: DatasetSize, costs: UnitCosts, *, cache_warm: bool,
             startup_s: float | None = None, basis: str = "runs", n_runs: int = 0,
             measured_at: str | None = None) -> Estimate:
    """Seconds for `config` on a dataset of `size`: startup + encoding + epochs x (train +
    validate) + the final validation and test passes."""
    epochs = fits_per_run(config)
    n_train = size.n_interactions * train_fraction(config.get("split") or {})
    scores = size.n_users * size.n_items
    text = encode_signature(config) is not None
    parts = {
        "startup": startup_s if startup_s is not None else (costs.startup_s or DEFAULT_STARTUP_S),
        "encoding": (costs.load_s + (0.0 if cache_warm else (size.n_users + size.n_items) * costs.encode_s_per_text))
        if text else 0.0,
        "training": epochs * n_train * costs.train_s_per_triple,
        "evaluation": (epochs + 2) * scores * costs.eval_s_per_score,
    }
    return Estimate(sum(parts.values()), parts, basis, n_runs, measured_at, cache_warm)


# -- calibration: measured in a background process ----------------------------------------------
def _pending_file(root: Path, config: dict[str, Any]) -> Path:
    import hashlib

    return root / f".calibration-{hashlib.sha1(cost_signature(config).encode()).hexdigest()[:12]}.pending"


def measurement_pending(runs_root: str | Path, config: dict[str, Any]) -> bool:
    """Whether a calibration of these settings is running now."""
    path = _pending_file(Path(runs_root), config)
    try:
        info = json.loads(path.read_text())
        return pid_alive(int(info["pid"]), info.get("start"))
    except (OSError, ValueError, KeyError, TypeError):
        return False


def start_measurement(runs_root: str | Path, config: dict[str, Any]) -> bool:
    """Start measuring `config`'s settings in a background process; False if one is running."""
    from rec_core.runs.environment import process_start_token

    root = Path(runs_root)
    root.mkdir(parents=True, exist_ok=True)
    with file_lock(root / ".calibration.lock"):
        if measurement_pending(root, config):
            return False
        config_file = root / f".calibration-{os.getpid()}-{time.time_ns()}.json"
        write_json_atomic(config_file, config)
        argv = [sys.executable, "-m", "rec_app.estimate", "measure", str(root), str(config_file),
                "--t0", repr(time.time())]
        with open(root / ".calibration.log", "ab") as log:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True, close_fds=True)
        _reap(proc)
        write_json_atomic(_pending_file(root, config), {"pid": proc.pid, "start": process_start_token(proc.pid)})
    return True


def _reap(proc: subprocess.Popen[bytes]) -> None:
    """Reap `proc` when it exits, so a long-lived app leaves no zombie behind."""
    import threading

    threading.Thread(target=proc.wait, daemon=True).start()


def measure(config: dict[str, Any], t0: float | None = None) -> dict[str, Any]:
    """One epoch of `config`'s settings on a small synthetic dataset; unit costs (seconds)."""
    import dataclasses

    from rec_core.data import DataConfig, load_dataset
    from rec_core.experiment import RunConfig, seed_everything
    from rec_core.models.registry import build_model
    from rec_core.split import make_split
    from rec_core.train import Trainer

    startup = time.time() - t0 if t0 else None
    base = RunConfig.from_dict(config)
    data_cfg = DataConfig(name="synthetic", synthetic_users=200, synthetic_items=150,
                          synthetic_interactions_per_user=30)
    cfg = dataclasses.replace(base, data=data_cfg, train=dataclasses.replace(base.train, epochs=2, patience=0))
    data = load_dataset(cfg.data)
    split = make_split(data, cfg.split)
    seed_everything(cfg.seed)
    with tempfile.TemporaryDirectory() as cache:  # a cold text cache, then a warm one
        os.environ["REC_CORE_CACHE"] = cache
        t = time.perf_counter()
        model = build_model(cfg.model, data)
        cold = time.perf_counter() - t
        warm = cold
        if cfg.model.name in TEXT_MODELS:
            t = time.perf_counter()
            model = build_model(cfg.model, data)
            warm = time.perf_counter() - t
    trainer = Trainer(model, data, split, cfg.train, cfg.eval)
    phases = getattr(model, "fit_phases", None)
    history: list[dict[str, Any]] = []
    for epochs, setup in (phases(2) if phases else [(2, None)]):
        if setup is not None:
            setup()
        history += trainer.fit(epochs).history
    # The first epoch pays one-off costs (allocations, lazy init); keep the later ones if any.
    steady = history[1:] or history
    evals = [h["eval_seconds"] for h in steady if "eval_seconds" in h]
    if not evals:  # no round recorded (Popularity): time one validation pass directly
        t = time.perf_counter()
        trainer.validate()
        evals = [time.perf_counter() - t]
    return {
        # Popularity records no round at all: nothing to train.
        "train_s_per_triple": (statistics.mean(h["seconds"] for h in steady) if steady else 0.0) / len(split.train),
        "eval_s_per_score": (statistics.mean(evals) if evals else 0.0) / (data.n_users * data.n_items),
        "encode_s_per_text": max(0.0, cold - warm) / (data.n_users + data.n_items),
        "load_s": warm if cfg.model.name in TEXT_MODELS else 0.0,
        "startup_s": startup,
        "measured_at": time.strftime("%Y-%m-%d %H:%M"),
    }


def _record(root: Path, config: dict[str, Any], entry: dict[str, Any]) -> None:
    with file_lock(root / ".calibration.lock"):
        current = _read_calibration(root)
        entries = dict(current.get("entries") or {})
        entries[cost_signature(config)] = entry
        write_json_atomic(root / CALIBRATION_FILE, {**current, "entries": entries})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rec_app.estimate")
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure", help="calibrate the settings of a run config on this machine")
    m.add_argument("runs_dir")
    m.add_argument("config_json")
    m.add_argument("--t0", type=float, default=None, help="time.time() when the process was launched")
    args = parser.parse_args(argv)
    root, config_path = Path(args.runs_dir), Path(args.config_json)
    config = json.loads(config_path.read_text(encoding="utf-8"))
    try:
        _record(root, config, measure(config, args.t0))
    except Exception as exc:  # recorded so the page can say why there is no estimate
        _record(root, config, {"error": f"{type(exc).__name__}: {exc}", "measured_at": time.strftime("%Y-%m-%d %H:%M")})
        raise
    finally:
        config_path.unlink(missing_ok=True)
        _pending_file(root, config).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
