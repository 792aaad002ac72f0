"""Real tiny runs for the analysis tests (synthetic data, seconds): what they hold and how to build them.

Like `tests/app_store.py` (whose enhanced runs fuse without attention): built once per test
session by the `analysis_runs` fixture (tests/conftest.py); a test that changes a store takes
`analysis_runs_copy`, a private copy.

    attn-c0    enhanced, tiny-gpt2, cross-attention, contrastive weight 0
    attn-c01   the same with contrastive weight 0.1
    noattn     enhanced, scheme 1 (fusion without attention)
    mf         matrix factorisation (ID only)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rec_core.experiment import execute_run, start_run
from rec_core.models.enhanced import EnhancedConfig
from rec_core.runs import RunStore
from tests.app_store import tiny_config

RUN_IDS = ("attn-c0", "attn-c01", "noattn", "mf")


def _attention(contrastive: float) -> EnhancedConfig:
    return EnhancedConfig(
        backbone="tiny-gpt2", max_length=32, embed_dim=16, n_heads=2, use_attention=True, contrastive_weight=contrastive
    )


def build_analysis_runs(root: Path) -> Path:
    """Build, under `root`, a run store holding RUN_IDS, all done; returns the store's folder."""
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
