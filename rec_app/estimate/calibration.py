"""Calibration: what a run of some settings costs on this machine, measured on its own dataset.

`start_measurement` runs `python -m rec_app.estimate.calibration measure RUNS_DIR CONFIG_JSON` in the
background; `measure` loads and splits the target data, builds the model (encoding the texts
into the shared cache when they are not there yet, so the run itself finds them), then per
training phase times real steps and validation passes (short epochs whole, a few of them
within WHOLE_EPOCH_S, the median after the first; a long epoch by a few steps after a warm-up
one, and one validation), and times the test pass. The result is a
`rec_app.estimate.costs.Profile`, kept in the runs folder's `.calibration.json` under the settings'
cost signature and dataset, with the error text when measuring failed. Other work's runnable
threads are sampled meanwhile (`rec_core.runs.load.LoadSampler`): the profile's `busy` factor,
so an estimate can price the same seconds for the load there is when a run is launched.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rec_app.estimate.costs import CLOSED_FORM_MODELS, Profile, cost_signature, data_key
from rec_core.runs.atomic import CorruptRunFile, RunFileNotFound, file_lock, read_json, write_json_atomic
from rec_core.runs.environment import pid_alive
from rec_core.runs.load import LoadSampler, busy_factor

__all__ = [
    "CALIBRATION_FILE",
    "calibrated",
    "calibration_error",
    "fresh_start_s",
    "measurement_pending",
    "measurement_started_at",
    "expected_s",
    "start_measurement",
    "measure",
    "main",
]

CALIBRATION_FILE = ".calibration.json"
TIMED_STEPS = 3  # steps timed at least, after the first one, when an epoch is too long to run whole
WHOLE_EPOCH_S = 15.0  # an epoch done within this is timed whole; a longer one is stopped and priced per step
WHOLE_EPOCHS = 4  # short epochs timed per phase (the first pays one-off costs; the median of the rest counts)
QUICK_STEP_S = 2.0  # a long epoch of steps quicker than this is timed over a second stretch too
# A calibration's duration before this runs folder has timed one (issue 23's walk: 66 s for MF
# to 5 min for a text model on two busy cores).
FIRST_GUESS_S = 90.0
FIRST_GUESS_TEXT_S = 240.0


def _key(config: dict[str, Any]) -> str:
    return hashlib.sha1((cost_signature(config) + data_key(config)).encode()).hexdigest()[:16]


def _read(root: Path) -> dict[str, Any]:
    try:
        return read_json(root / CALIBRATION_FILE)
    except (RunFileNotFound, CorruptRunFile, OSError):
        return {}


def _entry(config: dict[str, Any], root: str | Path) -> dict[str, Any] | None:
    entry = (_read(Path(root)).get("profiles") or {}).get(_key(config))
    return entry if isinstance(entry, dict) else None


def calibrated(config: dict[str, Any], runs_root: str | Path) -> tuple[Profile, str] | None:
    """(profile, measured_at) of these settings on this dataset, if they were measured."""
    entry = _entry(config, runs_root)
    if entry is None or "profile" not in entry:
        return None
    try:
        return Profile.from_dict(entry["profile"]), str(entry.get("measured_at", ""))
    except (KeyError, TypeError, ValueError):
        return None


def fresh_start_s(runs_root: str | Path) -> float | None:
    """A fresh process's imports on this machine as on an idle one: the median over the
    calibrations of this runs folder (any settings: the imports are the same), each divided by
    the busy factor it was measured under; None before any calibration timed them."""
    seconds = []
    for entry in (_read(Path(runs_root)).get("profiles") or {}).values():
        profile = entry.get("profile") if isinstance(entry, dict) else None
        if isinstance(profile, dict) and isinstance(profile.get("startup_s"), (int, float)):
            seconds.append(float(profile["startup_s"]) / float(profile.get("busy") or 1.0))
    return statistics.median(seconds) if seconds else None


def calibration_error(config: dict[str, Any], runs_root: str | Path) -> str | None:
    """The error of the last calibration of these settings, if it failed."""
    entry = _entry(config, runs_root)
    return str(entry["error"]) if entry and entry.get("error") else None


def _pending_file(root: Path, config: dict[str, Any]) -> Path:
    return root / f".calibration-{_key(config)}.pending"


def measurement_pending(runs_root: str | Path, config: dict[str, Any]) -> bool:
    """Whether a calibration of these settings is running now."""
    path = _pending_file(Path(runs_root), config)
    try:
        info = json.loads(path.read_text())
        return pid_alive(int(info["pid"]), info.get("start"))
    except (OSError, ValueError, KeyError, TypeError):
        return False


def measurement_started_at(runs_root: str | Path, config: dict[str, Any]) -> float | None:
    """time.time() when the running calibration of these settings was started; None if unknown."""
    try:
        value = json.loads(_pending_file(Path(runs_root), config).read_text()).get("started_at")
    except (OSError, ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, (int, float)) else None


def expected_s(runs_root: str | Path, config: dict[str, Any]) -> float:
    """How long a calibration of `config` takes here: the median of the calibrations this runs
    folder timed (start to record) of the same model, else of any model, else a first guess by
    model kind (a text model encodes its texts and times more phases). The walk measured 66 s
    to 5 min on two busy cores."""
    model = str((config.get("model") or {}).get("name", ""))
    entries = [e for e in (_read(Path(runs_root)).get("profiles") or {}).values() if isinstance(e, dict)]
    timed = [
        (str(e.get("model", "")), float(e["took_s"])) for e in entries if isinstance(e.get("took_s"), (int, float))
    ]
    same = [s for m, s in timed if m == model] or [s for _, s in timed]
    if same:
        return statistics.median(same)
    return FIRST_GUESS_TEXT_S if model in ("gpt2rec", "enhanced") else FIRST_GUESS_S


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
        argv = [
            sys.executable,
            "-m",
            "rec_app.estimate.calibration",
            "measure",
            str(root),
            str(config_file),
            "--t0",
            repr(time.time()),
        ]
        with open(root / ".calibration.log", "ab") as log:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        threading.Thread(target=proc.wait, daemon=True).start()  # reaped: no zombie in a long-lived app
        write_json_atomic(
            _pending_file(root, config),
            {"pid": proc.pid, "start": process_start_token(proc.pid), "started_at": time.time()},
        )
    return True


def _calibration_config(config: dict[str, Any]) -> Any:
    """The run config to measure: no patience (every timed epoch runs) and no warm start (the
    copy costs nothing, and its MF run need not exist here)."""
    import dataclasses

    from rec_core.configs import RunConfig

    base = RunConfig.from_dict(config)
    model = base.model
    if getattr(model, "init_from_run", ""):
        off = {"init_from_run": ""} | ({"freeze_mf": False} if hasattr(model, "freeze_mf") else {})  # MF has none
        model = dataclasses.replace(model, **off)
    return dataclasses.replace(base, model=model, train=dataclasses.replace(base.train, patience=0))


def measure(
    config: dict[str, Any], t0: float | None = None, clock: Callable[[], float] = time.perf_counter
) -> dict[str, Any]:
    """The profile of `config`'s settings on its own dataset (see the module doc), in seconds
    of `clock`: wall time by default (what the page shows); bench/bench_app.py also measures
    in this process's CPU time (time.process_time), which other jobs on the machine disturb less.
    The run's own stages (`rec_core.pipeline`: prepare_data, seed_everything, build_run_model,
    evaluate_run), timed; only the epochs are run one by one here (`_measure_phases`)."""
    import torch

    from rec_core.pipeline import build_run_model, evaluate_run, prepare_data, seed_everything
    from rec_core.train import Trainer

    machine = LoadSampler().start()
    startup = time.time() - t0 if t0 else None
    cfg = _calibration_config(config)
    t = clock()
    data, split = prepare_data(cfg)
    load_s = clock() - t
    seed_everything(cfg.seed)
    t = clock()
    model, _ = build_run_model(cfg, data)  # no store: no warm start (its copy costs nothing)
    build_s, encode_s = clock() - t, 0.0
    hits = model.describe().get("text_cache_hits")
    if isinstance(hits, dict) and hits and not any(hits.values()):  # encoded now: time a warm build too
        t = clock()
        model, _ = build_run_model(cfg, data)
        warm = clock() - t
        build_s, encode_s = warm, max(0.0, build_s - warm)
    trainer = Trainer(model, data, split, cfg.train, cfg.eval)
    epoch_s: dict[str, float] = {}
    valid_s: dict[str, float] = {}
    if cfg.model.name in CLOSED_FORM_MODELS:
        epoch_s["fit"] = _timed_fit(trainer, clock)
    else:
        steps = math.ceil(len(split.train) / cfg.train.batch_size)
        _measure_phases(trainer, model, steps, cfg.train.epochs, clock, epoch_s, valid_s)
        build_s += epoch_s.pop("_prepare", 0.0)
    t = clock()
    evaluate_run(model, data, split, cfg, trainer.device)  # the final validation and test passes
    test_s = clock() - t
    others, threads = machine.stop(), torch.get_num_threads()
    busy = None if others is None else busy_factor(others, threads)
    n = (len(split.train), int(data.n_users), int(data.n_items))
    profile = Profile(*n, epoch_s, valid_s, load_s, build_s, encode_s, test_s, startup, busy)
    return {
        "profile": profile.to_dict(),
        "measured_at": time.strftime("%Y-%m-%d %H:%M"),
        "others_runnable": None if others is None else round(others, 2),
        "threads": threads,
    }


def _timed_fit(trainer: Any, clock: Callable[[], float]) -> float:
    """Seconds of one closed-form candidate: the whole grid's fit over its candidates."""
    t = clock()
    fitted = trainer.fit()
    return (clock() - t) / max(1, len(fitted.history))


def _measure_phases(
    trainer: Any,
    model: Any,
    steps_per_epoch: int,
    epochs: int,
    clock: Callable[[], float],
    epoch_s: dict[str, float],
    valid_s: dict[str, float],
) -> None:
    """Time each training phase's epochs and validation into `epoch_s` / `valid_s` (plus
    "_prepare": one-off work, paid once per run: preparing the model, first-use costs of each
    phase).

    An epoch runs whole for up to WHOLE_EPOCH_S of wall time (short ones several times, the
    median after the first counting); a longer one is stopped and priced per step, from the
    later half of its step times, and when its steps are quick, from a second stretch (the
    first one's excess over that pace counts once)."""
    marks: list[float] = []
    trainer.add_callback("on_step_end", lambda tr, info: marks.append(clock()))
    fit_began = [0.0]
    trainer.set_stop_check(lambda: len(marks) >= TIMED_STEPS + 1 and time.perf_counter() - fit_began[0] > WHOLE_EPOCH_S)
    plan = [(str(n), int(k), setup) for n, k, setup in model.fit_phases(epochs)]
    active = [i for i, p in enumerate(plan) if p[1] > 0] or [len(plan) - 1]
    for index, (name, _epochs, setup) in enumerate(plan):
        if setup is not None:
            setup()
        if index not in active:
            continue
        spent: list[float] = []  # clock seconds of each whole fit(1): (preparing,) epoch, validation
        evals: list[float] = []
        warm_up: tuple[float, int] | None = None  # (seconds, steps) of a first stretch timed again
        began = time.perf_counter()
        while True:
            marks.clear()
            fit_began[0] = time.perf_counter()
            fit_at = clock()
            fitted = trainer.fit(1)
            took = clock() - fit_at
            t = clock()
            trainer.validate()  # timed apart, so the epoch is the fit minus its validation
            evals.append(clock() - t)
            if fitted.stopped:  # a long epoch, stopped after a few steps: priced per step
                gaps = [b - a for a, b in zip(marks, marks[1:])]
                step = statistics.median(gaps[len(gaps) // 2 :]) if gaps else took
                if warm_up is None and step < QUICK_STEP_S and marks:
                    # Quick steps in a long first stretch: kernels being set up for each new
                    # shape can make a first epoch ten times slower than the next. Time a
                    # second stretch; the first one's excess is paid once (with the build).
                    warm_up = (marks[-1] - fit_at, len(marks))
                    continue
                epoch_s[name] = step * steps_per_epoch
                once = (marks[0] - fit_at - step) if marks else 0.0
                if warm_up is not None:
                    once = warm_up[0] - warm_up[1] * step
                epoch_s["_prepare"] = epoch_s.get("_prepare", 0.0) + max(0.0, once)
                break
            spent.append(max(0.0, took - evals[-1]))
            if len(spent) >= WHOLE_EPOCHS or time.perf_counter() - began > WHOLE_EPOCH_S:
                break
        if spent:
            epoch_s[name] = statistics.median(spent[1:] or spent)
            if len(spent) > 1:  # the first epoch's excess: preparing the model, first-use costs
                epoch_s["_prepare"] = epoch_s.get("_prepare", 0.0) + max(0.0, spent[0] - epoch_s[name])
            if warm_up is not None:  # a slow first stretch, then whole epochs: its excess once
                pace = epoch_s[name] / max(1, steps_per_epoch)
                epoch_s["_prepare"] = epoch_s.get("_prepare", 0.0) + max(0.0, warm_up[0] - warm_up[1] * pace)
        valid_s[name] = statistics.median(evals[1:] or evals)


def _record(root: Path, config: dict[str, Any], entry: dict[str, Any]) -> None:
    with file_lock(root / ".calibration.lock"):
        current = _read(root)
        profiles = dict(current.get("profiles") or {})
        profiles[_key(config)] = entry
        write_json_atomic(root / CALIBRATION_FILE, {**current, "profiles": profiles})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rec_app.estimate.calibration")
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure", help="calibrate the settings of a run config on this machine")
    m.add_argument("runs_dir")
    m.add_argument("config_json")
    m.add_argument("--t0", type=float, default=None, help="time.time() when the process was launched")
    args = parser.parse_args(argv)
    root, config_path = Path(args.runs_dir), Path(args.config_json)
    config = json.loads(config_path.read_text(encoding="utf-8"))
    try:
        entry = measure(config, args.t0)
        if args.t0:  # what the page says the next calibration takes (`expected_s`)
            entry["took_s"] = round(time.time() - args.t0, 1)
        entry["model"] = str((config.get("model") or {}).get("name", ""))
        _record(root, config, entry)
    except Exception as exc:  # recorded so the page can say why there is no estimate
        _record(root, config, {"error": f"{type(exc).__name__}: {exc}", "measured_at": time.strftime("%Y-%m-%d %H:%M")})
        raise
    finally:
        config_path.unlink(missing_ok=True)
        _pending_file(root, config).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
