"""Split properties: disjoint, complete, deterministic; cold items absent from train."""

from __future__ import annotations

import numpy as np
import pytest

from rec_core.errors import ConfigError
from rec_core.split import SplitConfig, make_split
from tests.helpers import synthetic


@pytest.mark.parametrize("kind", ["ratio", "loo", "cold-items"])
def test_parts_are_disjoint_and_cover_every_row(kind: str) -> None:
    data = synthetic()
    s = make_split(data, SplitConfig(kind=kind, seed=3))  # type: ignore[arg-type]  # kind: a parametrized str
    rows = np.concatenate([s.train, s.valid, s.test])
    assert len(rows) == data.n_interactions
    assert len(np.unique(rows)) == data.n_interactions


@pytest.mark.parametrize("kind", ["ratio", "loo", "cold-items"])
def test_same_seed_same_split_other_seed_other_split(kind: str) -> None:
    data = synthetic()
    a = make_split(data, SplitConfig(kind=kind, seed=1))  # type: ignore[arg-type]  # kind: a parametrized str
    b = make_split(data, SplitConfig(kind=kind, seed=1))  # type: ignore[arg-type]  # kind: a parametrized str
    c = make_split(data, SplitConfig(kind=kind, seed=2))  # type: ignore[arg-type]  # kind: a parametrized str
    assert np.array_equal(a.test, b.test) and np.array_equal(a.train, b.train)
    if kind != "loo":  # loo is by time: no randomness at all
        assert not np.array_equal(a.test, c.test)


def test_ratio_split_per_user_fractions() -> None:
    data = synthetic()
    s = make_split(data, SplitConfig(kind="ratio"))
    counts = np.bincount(data.users, minlength=data.n_users)
    test = np.bincount(data.users[s.test], minlength=data.n_users)
    valid = np.bincount(data.users[s.valid], minlength=data.n_users)
    # RecBole's rule: int(0.1 * n) rows each for valid and test (at least one while train keeps > 1).
    expected = np.maximum(np.floor(counts * 0.1), (counts >= 3).astype(int))
    assert np.array_equal(test[counts > 0], expected[counts > 0])
    assert np.array_equal(valid[counts > 0], expected[counts > 0])


def test_loo_takes_the_latest_interactions() -> None:
    data = synthetic()
    s = make_split(data, SplitConfig(kind="loo"))
    for u in range(0, data.n_users, 17):
        mine = np.flatnonzero(data.users == u)
        t = data.timestamps[mine]
        test_row = s.test[data.users[s.test] == u]
        valid_row = s.valid[data.users[s.valid] == u]
        assert data.timestamps[test_row[0]] == t.max()
        assert data.timestamps[valid_row[0]] <= data.timestamps[test_row[0]]
        assert data.timestamps[s.train[data.users[s.train] == u]].max() <= data.timestamps[valid_row[0]]


def test_cold_items_never_in_train_and_candidates_match() -> None:
    data = synthetic()
    s = make_split(data, SplitConfig(kind="cold-items", cold_fraction=0.2))
    train_items = set(data.items[s.train].tolist())
    valid_c, test_c = s.candidates("valid"), s.candidates("test")
    assert valid_c is not None and test_c is not None
    assert not (set(valid_c.tolist()) | set(test_c.tolist())) & train_items
    assert set(data.items[s.valid].tolist()) <= set(valid_c.tolist())
    assert set(data.items[s.test].tolist()) <= set(test_c.tolist())
    n_present = len(np.unique(data.items))
    assert len(valid_c) + len(test_c) == round(0.2 * n_present)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"ratios": (0.8, 0.1, 0.2)}, "split_ratios"),
        ({"ratios": (0.0, 0.5, 0.5)}, "split_ratios"),
        ({"kind": "random"}, "split"),
        ({"cold_fraction": 1.5}, "cold_fraction"),
    ],
)
def test_bad_split_config_names_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        SplitConfig(**kwargs)
    assert err.value.field == field
