"""Real tiny runs for the app tests (synthetic data, seconds): what they hold and how to build them.

The store is built once per test session by the `seeded_runs` fixture (tests/conftest.py);
a test that changes a store takes the `app_runs` fixture, a private copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rec_core.data import DataConfig
from rec_core.evaluate import EvalConfig
from rec_core.experiment import RunConfig, execute_run, start_run
from rec_core.models.enhanced import EnhancedConfig
from rec_core.models.mf import MFConfig
from rec_core.runs import RunStore
from rec_core.split import SplitConfig
from rec_core.train import TrainConfig

TINY_DATA = DataConfig(name="synthetic", synthetic_users=120, synthetic_items=90)


def tiny_config(model: str, seed: int, epochs: int = 3, label: str = "") -> RunConfig:
    """A run config of the tiny synthetic dataset: `mf` or `enhanced` (tiny-gpt2, scheme 1)."""
    if model == "mf":
        model_cfg = MFConfig(embed_dim=16)
    else:
        model_cfg = EnhancedConfig.from_preset("scheme1", backbone="tiny-gpt2", max_length=32, embed_dim=16, n_heads=2)
    return RunConfig(
        data=TINY_DATA,
        split=SplitConfig(kind="ratio"),
        model=model_cfg,
        train=TrainConfig(epochs=epochs, batch_size=512, patience=0, device="cpu"),
        eval=EvalConfig(),
        seed=seed,
        label=label,
    )


def seed_store(root: Path) -> Path:
    """Build, under `root`, a run store with mf (seeds 0, 1) and enhanced tiny-gpt2 (seeds 0, 1),
    all done; returns the store's folder."""
    store = RunStore(root / "runs")
    for model in ("mf", "enhanced"):
        for seed in (0, 1):
            execute_run(start_run(tiny_config(model, seed), store))
    return store.root


def copy_store(source: Path, dest: Path) -> Path:
    """A private copy of the store at `source`, as `dest`/runs (tests may break it freely)."""
    target = dest / "runs"
    shutil.copytree(source, target)
    return target


def as_the_form_makes_mf(root: Path) -> None:
    """Rewrite the finished MF runs' configs in the store `root` as the Train form makes them
    (device "auto", the app's torch threads), so that the form's estimate takes them as its basis."""
    import json

    from rec_app.train.launch import with_app_threads

    for config_file in root.glob("*/config.json"):
        data = json.loads(config_file.read_text())
        if data["model"]["name"] == "mf":
            data["train"]["device"] = "auto"
            data["train"].pop("threads", None)
            config_file.write_text(json.dumps(with_app_threads(data)))
