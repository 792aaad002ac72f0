"""cold-items in k item folds: every item cold exactly once per seed; today's splits unchanged."""

from __future__ import annotations

import hashlib
import types
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from rec_core.cli import EXIT_BAD_INPUT, main
from rec_core.data import DataConfig, InteractionData, load_dataset
from rec_core.errors import ConfigError, DataError
from rec_core.experiment import RunConfig
from rec_core.split import Split, SplitConfig, make_split
from tests.helpers import synthetic


def _handmade() -> InteractionData:
    """Interactions drawn from a fixed NumPy stream: independent of any loader, so the
    digests below change only when the split code does."""
    rng = np.random.default_rng(20240522)
    n_users, n_items = 70, 60
    pairs = np.unique(rng.integers(0, n_users * n_items, 1500))
    data = types.SimpleNamespace(
        users=(pairs // n_items).astype(np.int64),
        items=(pairs % n_items).astype(np.int64),
        timestamps=rng.integers(0, 10**6, len(pairs)).astype(np.int64),
        n_users=n_users,
        n_items=n_items,
        n_interactions=len(pairs),
    )
    return cast(InteractionData, data)  # make_split reads only these attributes


def _digest(s: Split) -> str:
    h = hashlib.sha256()
    for a in (s.train, s.valid, s.test, s.valid_candidates, s.test_candidates):
        h.update(b"none" if a is None else np.ascontiguousarray(a, dtype=np.int64).tobytes() + b"|")
    return h.hexdigest()[:16]


# Digests of the splits made by the code before item folds existed (commit ecf7498's split.py):
# a split made without folds must stay the same bit for bit, or every committed result moves.
BEFORE_FOLDS = {
    ("ratio", 0): "8a0be4efff4c19d8",
    ("ratio", 3): "2969a9aabce32500",
    ("loo", 0): "da7dd77eeeb78f8a",
    ("cold-items", 0): "beb508d818ca3ed4",
    ("cold-items", 3): "34a18f819239afa3",
}
ML100K_BEFORE_FOLDS = {
    ("ratio", 0): "4a7dc989216b2dda",
    ("ratio", 1): "86dfeca76dc0346b",
    ("cold-items", 0): "efe1818b945a65b4",
    ("cold-items", 1): "9c2d26e845a11df7",
}


@pytest.mark.parametrize(("kind", "seed"), sorted(BEFORE_FOLDS))
def test_splits_without_folds_are_bit_identical_to_before(kind: str, seed: int) -> None:
    split = make_split(_handmade(), SplitConfig(kind=kind, seed=seed))  # type: ignore[arg-type]  # kind: a str
    assert _digest(split) == BEFORE_FOLDS[(kind, seed)]


def test_ml100k_splits_without_folds_are_bit_identical_to_before(ml100k_dir: Path) -> None:
    data = load_dataset(DataConfig(name="ml-100k", data_dir=str(ml100k_dir.parent), download=False))
    for (kind, seed), expected in ML100K_BEFORE_FOLDS.items():
        assert _digest(make_split(data, SplitConfig(kind=kind, seed=seed))) == expected, (kind, seed)  # type: ignore[arg-type]  # kind: a str


def _cold(split: Split) -> np.ndarray:
    assert split.valid_candidates is not None and split.test_candidates is not None
    return np.concatenate([split.valid_candidates, split.test_candidates])


@pytest.mark.parametrize("k", [2, 5])
def test_every_item_is_cold_exactly_once_per_seed(k: int) -> None:
    data = synthetic()
    present = np.unique(data.items)
    for seed in (0, 4):
        cold_sets = []
        for fold in range(k):
            s = make_split(data, SplitConfig(kind="cold-items", folds=k, fold=fold, seed=seed))
            cold = _cold(s)
            train_items = set(data.items[s.train].tolist())
            assert not set(cold.tolist()) & train_items  # held out of train entirely
            assert set(data.items[s.valid].tolist()) <= set(s.valid_candidates.tolist())  # type: ignore[union-attr]  # set by cold-items
            assert set(data.items[s.test].tolist()) <= set(s.test_candidates.tolist())  # type: ignore[union-attr]  # set by cold-items
            rows = np.concatenate([s.train, s.valid, s.test])
            assert np.array_equal(np.sort(rows), np.arange(data.n_interactions))
            # valid / test among the fold's items as without folds (cold_valid_share)
            assert len(s.valid_candidates) == max(1, round(len(cold) * 0.5))  # type: ignore[arg-type]  # set by cold-items
            assert s.describe()["folds"] == k and s.describe()["fold"] == fold
            cold_sets.append(cold)
        every = np.concatenate(cold_sets)
        assert np.array_equal(np.sort(every), present)  # a partition: each item once
        sizes = [len(c) for c in cold_sets]
        assert max(sizes) - min(sizes) <= 1


def test_the_seed_draws_the_folds() -> None:
    data = synthetic()
    a = _cold(make_split(data, SplitConfig(kind="cold-items", folds=5, fold=0, seed=1)))
    b = _cold(make_split(data, SplitConfig(kind="cold-items", folds=5, fold=0, seed=1)))
    c = _cold(make_split(data, SplitConfig(kind="cold-items", folds=5, fold=0, seed=2)))
    assert np.array_equal(a, b) and not np.array_equal(np.sort(a), np.sort(c))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "ratio", "folds": 5, "fold": 0}, "folds"),
        ({"kind": "cold-items", "folds": 1, "fold": 0}, "folds"),
        ({"kind": "cold-items", "folds": 5, "fold": 5}, "fold"),
        ({"kind": "cold-items", "folds": 5, "fold": -1}, "fold"),
        ({"kind": "cold-items", "folds": 5}, "fold"),
        ({"kind": "cold-items", "fold": 2}, "fold"),
    ],
)
def test_bad_folds_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as err:
        SplitConfig(**kwargs)
    assert err.value.field == field


def test_too_many_folds_for_the_items_is_a_data_error() -> None:
    data = synthetic()  # 90 items: 60 folds leave a fold of one item
    with pytest.raises(DataError, match="at least 2 held-out items"):
        make_split(data, SplitConfig(kind="cold-items", folds=60, fold=0))


def test_old_configs_read_without_folds_and_fold_runs_are_named() -> None:
    old = {"split": {"kind": "cold-items", "cold_fraction": 0.2, "cold_valid_share": 0.5, "seed": 0}}
    config = RunConfig.from_dict(old)
    assert config.split.folds is None and config.split.fold is None
    folded = RunConfig(split=SplitConfig(kind="cold-items", folds=5, fold=2), seed=3)
    assert folded.run_prefix() == "mf-ml-100k-cold-items-fold2of5-s3"


def test_cli_folds_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    syn = ["--dataset", "synthetic", "--synthetic-users", "80", "--synthetic-items", "90", "--split", "cold-items"]
    base = ["train", *syn, "--runs-dir", str(tmp_path), "--quiet", "--epochs", "1", "--embed-dim", "8"]
    assert main([*base, "--folds", "5", "--fold", "5"]) == EXIT_BAD_INPUT
    assert "error: fold: must be one of 0..4" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # refused before a run folder exists
    assert main([*base, "--folds", "3", "--fold", "1", "--run-id", "f1"]) == 0
    split = (tmp_path / "f1" / "config.json").read_text(encoding="utf-8")
    assert '"folds": 3' in split and '"fold": 1' in split
