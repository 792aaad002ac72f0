"""Real tiny runs for the analysis tests, trained once per test process (synthetic data, seconds).

Like `tests/app_store.py` (whose enhanced runs fuse without attention): a module-level
cache, and tests that change a store work on their own copy (`copy_analysis_store`).

    attn-c0    enhanced, tiny-gpt2, cross-attention, contrastive weight 0
    attn-c01   the same with contrastive weight 0.1
    noattn     enhanced, scheme 1 (fusion without attention)
    mf         matrix factorisation (ID only)
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from rec_core.experiment import execute_run, start_run
from rec_core.models.enhanced import EnhancedConfig
from rec_core.runs import RunStore
from tests.app_store import tiny_config

RUN_IDS = ("attn-c0", "attn-c01", "noattn", "mf")


def _attention(contrastive: float) -> EnhancedConfig:
    return EnhancedConfig(backbone="tiny-gpt2", max_length=32, embed_dim=16, n_heads=2, use_attention=True,
                          contrastive_weight=contrastive)


@lru_cache(maxsize=1)
def analysis_runs() -> Path:
    """The root of a run store holding RUN_IDS, all done."""
    root = Path(tempfile.mkdtemp(prefix="rec_core-analysis-runs-"))
    os.environ.setdefault("REC_CORE_CACHE", str(root / "cache"))
    store = RunStore(root / "runs")
    configs = {
        "attn-c0": dataclasses.replace(tiny_config("enhanced", 0, epochs=2), model=_attention(0.0), label="attn-c0"),
        "attn-c01": dataclasses.replace(tiny_config("enhanced", 0, epochs=2), model=_attention(0.1), label="attn-c01"),
        "noattn": dataclasses.replace(tiny_config("enhanced", 0, epochs=2), label="noattn"),
        "mf": dataclasses.replace(tiny_config("mf", 0, epochs=2), label="mf"),
    }
    for run_id, config in configs.items():
        execute_run(start_run(config, store, run_id=run_id))
    return store.root


def copy_analysis_store(dest: Path) -> Path:
    """A private copy of the analysis store under `dest` (tests may break it freely)."""
    target = dest / "runs"
    shutil.copytree(analysis_runs(), target)
    return target
