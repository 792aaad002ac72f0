"""What bench/speed.py and bench/speed_floor.py share: the cached configurations the app offers,
an MF or Enhanced model's cached epoch ready to time, and interleaved timing against MF."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

BATCH = 2048  # the training batch of every timed epoch (the app's default)


def cached_epoch(model: Any, data: Any, split: Any) -> tuple[Callable[[], Any], int]:
    """`model`'s training epoch on `split` (batch 2048, CPU), after one warm-up epoch, and its
    steps. Scheme 3 runs its cached phase (the others are cached already)."""
    from rec_core.train import TrainConfig, Trainer

    tr = Trainer(model, data, split, TrainConfig(epochs=0, batch_size=BATCH, device="cpu"))
    tr.fit(0)  # prepares (seen ids) without training
    if hasattr(model, "use_cache"):
        model.use_cache = True
    tr._train_epoch(model)  # warm-up
    return partial(tr._train_epoch, model), -(-len(tr._train_users) // BATCH)


def cached_presets() -> dict[str, Any]:
    """The cached Enhanced configurations the app offers, by name: the defaults, the former
    contrastive default, the lighter attention validation chose, scheme 1, scheme 3's cached
    phase (its switches, cache mode) and every other preset of `PRESETS` (its cached phase
    when it is a dynamic one), so a preset added later is timed without editing this file."""
    from rec_core.models.enhanced import PRESETS, EnhancedConfig

    configs: dict[str, Any] = {
        "enhanced_default": EnhancedConfig(),
        "enhanced_contrastive_0.1": EnhancedConfig(contrastive_weight=0.1),  # the former default
        "enhanced_2_heads_rank_32": EnhancedConfig(n_heads=2, text_rank=32),
        "enhanced_scheme1": EnhancedConfig.from_preset("scheme1"),
        "enhanced_scheme3_cached_phase": EnhancedConfig.from_preset("scheme3"),
    }
    for name in PRESETS:
        if name not in ("scheme1", "scheme2", "scheme3"):
            configs[f"enhanced_preset_{name}"] = EnhancedConfig.from_preset(name)
    return configs


def interleaved(runs: dict[str, Callable[[], Any]], rounds: int) -> dict[str, Any]:
    """Wall and CPU (process) seconds of each run, one of each per round, so that load from
    other processes hits every run alike; medians, and ratios to `mf`. CPU time counts only
    this process's work: on a machine shared with other busy processes it moves less than
    the wall time does, and the ratios are about it."""
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            t, c = time.perf_counter(), time.process_time()
            fn()
            cpu[name].append(time.process_time() - c)
            wall[name].append(time.perf_counter() - t)
    out: dict[str, Any] = {
        name: {
            "median_s": statistics.median(wall[name]),
            "min_s": min(wall[name]),
            "max_s": max(wall[name]),
            "cpu_median_s": statistics.median(cpu[name]),
            "repeats": rounds,
        }
        for name in runs
    }
    others = [name for name in runs if name != "mf"]
    out["vs_mf"] = {name: out[name]["median_s"] / out["mf"]["median_s"] for name in others}
    out["cpu_vs_mf"] = {name: out[name]["cpu_median_s"] / out["mf"]["cpu_median_s"] for name in others}
    return out
