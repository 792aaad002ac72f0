"""bench/quality.py --folds K: each seed's K item-fold runs pooled into one per-seed value."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rec_core.data import DataConfig
from rec_core.evaluate import compare_seeds
from rec_core.experiment import RunConfig, execute_run, prepare_data, start_run
from rec_core.models.mf import MFConfig
from rec_core.models.popularity import PopularityConfig
from rec_core.runs import RunStore
from rec_core.split import SplitConfig
from rec_core.train import TrainConfig

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import quality  # bench/ is a folder of scripts, not a package

DATA = DataConfig(name="synthetic", synthetic_users=80, synthetic_items=90)
COLD = SplitConfig(kind="cold-items")
K = 3


def _config(model: object, seed: int) -> RunConfig:
    return RunConfig(
        data=DATA, split=COLD, model=model, train=TrainConfig(epochs=1, batch_size=256, threads=1), seed=seed
    )


def test_fold_configs_cover_every_item_once_and_refuse_other_splits() -> None:
    configs = quality.fold_configs(_config(MFConfig(embed_dim=8), 4), K)
    assert [(c.split.folds, c.split.fold, c.seed) for c in configs] == [(K, i, 4) for i in range(K)]
    held_out = []
    for c in configs:
        data, split = prepare_data(c)
        held_out += [*split.valid_candidates, *split.test_candidates]  # type: ignore[misc]  # cold-items sets both
    assert sorted(held_out) == sorted(np.unique(data.items).tolist())
    assert quality.fold_configs(_config(MFConfig(), 0), None) == [_config(MFConfig(), 0)]
    with pytest.raises(SystemExit, match="cold-items"):
        quality.fold_configs(RunConfig(data=DATA, split=SplitConfig(kind="ratio")), K)


def test_pooled_seed_values_are_what_compare_seeds_compares(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    entries: dict[str, dict[int, dict]] = {"pop": {}, "mf": {}}
    tables: dict[str, dict[int, pd.DataFrame]] = {"pop": {}, "mf": {}}
    for name, model in (("pop", PopularityConfig()), ("mf", MFConfig(embed_dim=8))):
        for seed in (0, 1):
            parts = []
            for config in quality.fold_configs(_config(model, seed), K):
                run = start_run(config, store)
                parts.append((run, execute_run(run)))
            entry, random = quality.seed_entry(parts, 0.0)
            table = quality.fold_table([quality.per_user(store, run.run_id) for run, _ in parts])
            entries[name][seed], tables[name][seed] = entry, table
            # Every fold's users are there once, keyed (fold, user); the pooled metric is their mean.
            n_users = [res["test"]["primary"]["n_users"] for _, res in parts]
            assert len(table) == sum(n_users) and table["user"].is_unique
            assert [f["n_users"] for f in entry["folds"]] == n_users
            for m in quality.METRICS:
                assert entry["metrics"][m] == pytest.approx(table[m].mean(), abs=1e-12)
            fold_means = [res["test"]["primary"]["metrics"]["ndcg@10"] for _, res in parts]
            assert min(fold_means) <= entry["metrics"]["ndcg@10"] <= max(fold_means)
            assert [f["run_id"] for f in entry["folds"]] == [run.run_id for run, _ in parts]
            assert random is not None and 0 < random["ndcg@10"] < entry["metrics"]["hit@10"] + 1
    # The seed is the unit: compare_seeds' per-seed means are the pooled per-seed values.
    cmp = compare_seeds(tables["pop"], tables["mf"], "ndcg@10")
    assert cmp.n_seeds == 2
    diffs = [entries["mf"][s]["metrics"]["ndcg@10"] - entries["pop"][s]["metrics"]["ndcg@10"] for s in (0, 1)]
    assert cmp.diff == pytest.approx(float(np.mean(diffs)), abs=1e-12)


def test_the_suite_runs_k_folds_per_seed_and_writes_one_value_per_seed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = [
        ("Popularity", lambda s: _config(PopularityConfig(), s)),
        ("MF (BPR)", lambda s: _config(MFConfig(embed_dim=8), s)),
    ]
    monkeypatch.setattr(quality, "_suite", lambda name: (plan, "Popularity"))
    out = tmp_path / "out.json"
    argv = ["quality.py", "--suite", "tiny", "--folds", "2", "--seeds", "0", "1", "--runs-dir", str(tmp_path / "runs")]
    monkeypatch.setattr(sys, "argv", [*argv, "--out", str(out)])
    quality.main()
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["folds"] == 2 and result["not_run"] == []
    mf = result["models"]["MF (BPR)"]
    assert sorted(mf["per_seed"]) == ["0", "1"]
    for row in mf["per_seed"].values():
        assert [f["run_id"] for f in row["folds"]] and len(row["folds"]) == 2
        assert row["metrics"]["ndcg@10"] == pytest.approx(
            quality.pooled([f["metrics"] for f in row["folds"]], [f["n_users"] for f in row["folds"]])["ndcg@10"]
        )
    assert mf["vs_reference"]["ndcg@10"]["n_seeds"] == 2  # the seed is the unit, not the fold
    assert len(RunStore(tmp_path / "runs" / "tiny").run_ids()) == 2 * 2 * 2  # models x seeds x folds
    # Again: every fold's run is reused, nothing trains.
    quality.main()
    assert len(RunStore(tmp_path / "runs" / "tiny").run_ids()) == 8
