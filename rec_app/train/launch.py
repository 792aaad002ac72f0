"""What the Train page's Launch button does, as plain functions: seeds -> validated configs ->
queued run folders whose command is the CLI's `execute`.

The command is `python -m rec_core execute RUN_ID --runs-dir DIR --quiet`, the same one a
headless GPU server would run, so the app and the CLI can never train differently. With N > 1
processes torchrun starts N of them (`python -m rec_core.torchrun --standalone --nproc_per_node
N -m rec_core execute ...`: torchrun, ending in one line rather than its traceback): one run, each step on a global batch of
batch_size x N triples (rec_core/distributed.py); the queue counts it as N slots.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rec_core.errors import ConfigError
from rec_core.runs import RunQueue, RunStore
from rec_core.runs.atomic import write_bytes_atomic
from rec_core.runs.runner import check_processes

if TYPE_CHECKING:
    from rec_core.experiment import RunConfig

__all__ = [
    "RUNS_ENV",
    "MAX_SEEDS",
    "runs_root",
    "max_parallel",
    "parse_seeds",
    "build_configs",
    "control_configs",
    "warm_start_sources",
    "with_app_threads",
    "execute_argv",
    "check_launch_processes",
    "submit_runs",
    "save_upload",
    "UPLOADS_DIR",
]

RUNS_ENV = "REC_CORE_RUNS"
PARALLEL_ENV = "REC_CORE_MAX_PARALLEL"
MAX_SEEDS = 20  # more seeds than this in one click is almost certainly a typo
UPLOADS_DIR = ".uploads"  # in the runs folder; a hidden name is never taken for a run id


def runs_root() -> Path:
    """The run store folder: $REC_CORE_RUNS, else `runs/` in the working directory."""
    return Path(os.environ.get(RUNS_ENV, "").strip() or "runs").expanduser()


def max_parallel() -> int:
    """Runs the queue executes at once: $REC_CORE_MAX_PARALLEL (default 1, for small machines)."""
    raw = os.environ.get(PARALLEL_ENV, "").strip()
    try:
        return max(1, int(raw)) if raw else 1
    except ValueError:
        raise ConfigError(PARALLEL_ENV, f"must be an integer >= 1, got {raw!r}") from None


def parse_seeds(text: str) -> list[int]:
    """Seeds from `"0"`, `"0, 1, 2"` or `"0-4"` (ranges inclusive); ConfigError("seeds", ...)."""
    seeds: list[int] = []
    for part in (p.strip() for p in str(text).replace(";", ",").split(",")):
        if not part:
            continue
        m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", part)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if hi < lo or hi - lo >= MAX_SEEDS:
                raise ConfigError("seeds", f"range {part!r} must go up and hold at most {MAX_SEEDS} seeds")
            seeds.extend(range(lo, hi + 1))
        elif part.isdigit():
            seeds.append(int(part))
        else:
            raise ConfigError("seeds", f"{part!r} is not a seed; use whole numbers >= 0 like 0, 1, 2 or 0-4")
    if not seeds:
        raise ConfigError("seeds", "give at least one seed, e.g. 0 or 0, 1, 2")
    if len(set(seeds)) != len(seeds):
        raise ConfigError("seeds", "a seed is repeated; each seed makes one run")
    if len(seeds) > MAX_SEEDS:
        raise ConfigError("seeds", f"at most {MAX_SEEDS} seeds at once, got {len(seeds)}")
    return seeds


def with_app_threads(config: dict[str, Any], cores: int | None = None, processes: int = 1) -> dict[str, Any]:
    """`config` with the torch threads the app trains it with (`train.threads`, unless set).

    Models whose epochs never run the text encoder (MF, GPT2Recommender, the cached Enhanced
    phases; not the closed-form fits, whose large matrix products use every core) get one core
    fewer than the machine has, at least 1: their operations are small, so a second OpenMP
    thread gains little on an idle machine, and when every core has a thread any other
    runnable thread makes each operation wait for a preempted one. Measured on 2 cores, ML-100K
    (identical metrics either way): 1 thread costs 20-30% per epoch on an idle machine (MF 0.11
    vs 0.09 s, scheme 1 0.55 vs 0.44 s, attention 1.0 vs 0.8 s) and is 1.4-3x faster beside two
    other busy threads (MF fit 5.5 vs 10.6-16.9 s with epochs up to 6 s; scheme 1 5.0 vs 7.9-11.3 s),
    and priced for the load it stays within the processor-sharing model the estimate uses.
    Runs with dynamic epochs keep torch's default (every core; one per process under torchrun).
    A run of `processes` processes shares those cores among them, at least 1 thread each.
    ConfigError("model.preset", ...) for a preset that does not exist, as `build_configs`."""
    from rec_app.estimate import CLOSED_FORM_MODELS, phase_plan
    from rec_core.configs import with_preset
    from rec_core.runs.load import cores as machine_cores

    train = dict(config.get("train") or {})
    model = with_preset(config.get("model") or {})  # the switches the run will have, as RunConfig reads them
    if train.get("threads") or model.get("name") in CLOSED_FORM_MODELS:
        return config
    if any(phase == "dynamic" for phase, _ in phase_plan({**config, "model": model})):
        return config
    n = machine_cores() if cores is None else cores
    return {**config, "train": {**train, "threads": max(1, (n - 1) // max(1, processes))}}


def build_configs(base: dict[str, Any], seeds: Sequence[int], store: RunStore | None = None) -> list[RunConfig]:
    """One validated RunConfig per seed from a config dict (sections data, split, model, ...).

    Raises ConfigError naming the offending field when any value is out of range; with
    `store`, also when a seed's warm start (`init_from_run`) cannot be made from it.
    """
    from rec_core.experiment import RunConfig
    from rec_core.warm_start import check_warm_start

    configs = [RunConfig.from_dict({**base, "seed": int(seed)}) for seed in seeds]
    if store is not None:
        for config in configs:
            check_warm_start(config, store)
    return configs


def control_configs(configs: Sequence[RunConfig], store: RunStore) -> list[RunConfig]:
    """The equal-budget control ("MF continued", rec_core.warm_start.equal_budget_control) of
    each warm-started text model config, one per seed: MF trained on from the MF run that seed's
    model starts from, with the same train config. ConfigError naming `with_control` for a
    config without a warm start, `init_from_run` when a control cannot start (as the model)."""
    from rec_core.warm_start import equal_budget_control, resolve_warm_start

    controls = [equal_budget_control(config) for config in configs]
    for config, control in zip(configs, controls):
        source, control_source = resolve_warm_start(config, store), resolve_warm_start(control, store)
        if source != control_source:  # not expected: one rule picks both; never a control of another MF
            raise ConfigError(
                "with_control",
                f"seed {config.seed}: the control would start from {control_source!r}, the model from {source!r}",
            )
    return controls


def warm_start_sources(configs: Sequence[RunConfig], store: RunStore) -> dict[int, str]:
    """seed -> id of the MF run each warm-started config would start from ("auto" resolved), for
    the Train page to show before launch; {} without a warm start. ConfigError as `check_warm_start`."""
    from rec_core.warm_start import resolve_warm_start

    out: dict[int, str] = {}
    for config in configs:
        source = resolve_warm_start(config, store)
        if source is not None:
            out[config.seed] = source
    return out


def execute_argv(run_id: str, runs_dir: str | Path, processes: int = 1) -> list[str]:
    """The command that carries out a queued run folder (what the queue launches): the CLI's
    `execute`, under torchrun with `processes` > 1 (never handed to the warm worker then)."""
    processes = check_processes(processes)
    launcher = (
        [sys.executable, "-m", "rec_core.torchrun", "--standalone", "--nproc_per_node", str(processes)]
        if processes > 1
        else [sys.executable]
    )
    return [*launcher, "-m", "rec_core", "execute", run_id, "--runs-dir", str(Path(runs_dir).resolve()), "--quiet"]


def check_launch_processes(processes: object) -> int:
    """`processes` checked for this machine: 1 to the CPU cores, and on a machine with CUDA at
    most its GPUs (`execute` joins the process group with nccl there, one GPU per process);
    ConfigError("processes", ...)."""
    n = check_processes(processes)
    if n == 1:
        return n
    import torch

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if gpus and n > gpus:
        raise ConfigError(
            "processes",
            f"must be at most {gpus} on this machine: with CUDA each process takes one GPU and it has {gpus}, not {n}",
        )
    return n


def submit_runs(store: RunStore, queue: RunQueue, configs: Sequence[RunConfig], processes: int = 1) -> list[str]:
    """Create a queued run folder per config and hand each to the queue; returns the run ids.

    Each run trains in `processes` local processes (torchrun when > 1) and takes as many of
    the queue's slots. The queue starts as many runs as it has free slots (its file lock
    makes two browser tabs clicking at once safe); the rest wait their turn in the store.
    """
    from rec_core.experiment import start_run
    from rec_core.warm_start import check_warm_start

    processes = check_launch_processes(processes)  # before any folder exists
    for config in configs:  # every seed checked before any folder exists: no half-launched group
        check_warm_start(config, store)
    ids = []
    for config in configs:
        run = start_run(config, store)
        queue.submit(run.run_id, execute_argv(run.run_id, store.root, processes), processes=processes)
        ids.append(run.run_id)
    return ids


def save_upload(root: str | Path, name: str, data: bytes) -> Path:
    """Store an uploaded file under `<root>/.uploads/<sha256>/<name>` and return its path.

    Content-addressed, so the same file uploaded twice is one file and a run's config keeps
    pointing at exactly the bytes it was validated with.
    """
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", name) or ".." in name:
        raise ConfigError("name", f"{name!r} is not a plain file name")
    folder = Path(root) / UPLOADS_DIR / hashlib.sha256(data).hexdigest()[:32]
    path = folder / name
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, data)
    return path
