"""EASE and ItemKNN: exact against direct formulas, validation search, limits, cold items, CLI."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from rec_core.cli import main
from rec_core.errors import ConfigError
from rec_core.evaluate import evaluate, evaluate_all
from rec_core.experiment import load_run_model, prepare_data
from rec_core.models.base import TrainContext
from rec_core.models.ease import EASE, EASEConfig
from rec_core.models.itemknn import ItemKNN, ItemKNNConfig
from rec_core.models.mf import MFConfig
from rec_core.models.registry import build_model
from rec_core.runs import RunStore
from rec_core.train import TrainConfig, Trainer
from rec_core.train.closed_form import select_on_validation
from tests.helpers import split_of, synthetic


def _random_matrix(
    n_users: int = 40, n_items: int = 15, p: float = 0.3, seed: int = 0, empty_items: tuple[int, ...] = ()
) -> np.ndarray:
    x = (np.random.default_rng(seed).random((n_users, n_items)) < p).astype(np.float64)
    x[:, list(empty_items)] = 0.0
    return x


def _fitted(cls: type, config: object, x: np.ndarray) -> EASE | ItemKNN:
    users, items = np.nonzero(x)
    model = cls(x.shape[0], x.shape[1], config)
    model.prepare(TrainContext(x.shape[0], x.shape[1], users.astype(np.int64), items.astype(np.int64)))
    return model


def _scores(model: torch.nn.Module, n_users: int) -> np.ndarray:
    with torch.no_grad():
        return model.full_scores(torch.arange(n_users)).double().numpy()


# -- exactness -----------------------------------------------------------------------------------
@pytest.mark.parametrize("l2", [0.5, 7.0, 300.0])
def test_ease_matches_the_direct_formula(l2: float) -> None:
    x = _random_matrix()
    p = np.linalg.inv(x.T @ x + l2 * np.eye(x.shape[1]))
    b = np.eye(x.shape[1]) - p / np.diag(p)[None, :]  # Steck 2019: B = I - P diagMat(1 / diag(P))
    model = _fitted(EASE, EASEConfig(l2_grid=(l2,)), x)
    np.testing.assert_allclose(model.weights.double().numpy(), b, rtol=1e-5, atol=1e-6)
    assert (torch.diagonal(model.weights) == 0).all()
    np.testing.assert_allclose(_scores(model, x.shape[0]), x @ b, rtol=1e-5, atol=1e-5)


def test_ease_unseen_items_get_all_zero_rows_and_columns() -> None:
    x = _random_matrix(empty_items=(3, 9))
    model = _fitted(EASE, EASEConfig(l2_grid=(5.0,)), x)
    w = model.weights.double().numpy()
    assert (w[:, [3, 9]] == 0).all() and (w[[3, 9], :] == 0).all()
    seen = [i for i in range(x.shape[1]) if i not in (3, 9)]
    xs = x[:, seen]
    p = np.linalg.inv(xs.T @ xs + 5.0 * np.eye(len(seen)))
    np.testing.assert_allclose(w[np.ix_(seen, seen)], np.eye(len(seen)) - p / np.diag(p)[None, :], rtol=1e-5, atol=1e-6)


def _brute_force_knn(x: np.ndarray, k: int, shrink: float) -> np.ndarray:
    """Dense W: row j holds sim(i, j) of j's k most similar other items (ties: lower index)."""
    c = x.T @ x
    norms = np.sqrt(np.diag(c))
    with np.errstate(invalid="ignore"):  # an empty item: 0 / 0, never a neighbour (sim > 0 below)
        sim = c / (np.outer(norms, norms) + shrink)
    np.fill_diagonal(sim, 0.0)
    w = np.zeros_like(sim)
    for j in range(len(sim)):
        others = [i for i in np.argsort(-sim[j], kind="stable") if i != j and sim[j, i] > 0][:k]
        w[j, others] = sim[j, others]
    return w


@pytest.mark.parametrize("k,shrink", [(1, 0.0), (3, 0.0), (3, 2.5), (5, 10.0), (100, 0.0)])
def test_itemknn_matches_brute_force_cosine_with_shrink_and_top_k(k: int, shrink: float) -> None:
    x = _random_matrix(seed=1, empty_items=(4,))
    model = _fitted(ItemKNN, ItemKNNConfig(k_grid=(k,), shrink_grid=(shrink,)), x)
    w = _brute_force_knn(x, k, shrink)
    np.testing.assert_allclose(model.item_embeddings().double().numpy(), w, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(_scores(model, x.shape[0]), x @ w.T, rtol=1e-5, atol=1e-5)
    assert (np.count_nonzero(w, axis=1) <= k).all()


@pytest.mark.parametrize(
    "cls,config",
    [(EASE, EASEConfig(l2_grid=(3.0, 30.0))), (ItemKNN, ItemKNNConfig(k_grid=(2, 6), shrink_grid=(0.0, 4.0)))],
)
def test_score_agrees_with_full_scores(cls: type, config: object) -> None:
    x = _random_matrix(seed=2)
    model = _fitted(cls, config, x)
    users, items = torch.tensor([0, 5, 5, 39]), torch.tensor([1, 1, 14, 7])
    full = torch.from_numpy(_scores(model, x.shape[0]))[users, items]
    torch.testing.assert_close(model.score(users, items).double(), full, rtol=1e-6, atol=1e-6)


# -- checkpoints ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "config", [EASEConfig(l2_grid=(10.0, 40.0)), ItemKNNConfig(k_grid=(5, 20), shrink_grid=(3.0,))]
)
def test_checkpoint_file_round_trip_scores_identically(tmp_path: Path, config: object) -> None:
    data = synthetic()
    split = split_of(data, "ratio")
    model = build_model(config, data)
    Trainer(model, data, split, TrainConfig(device="cpu")).fit()
    before = _scores(model, data.n_users)
    path = tmp_path / "model.safetensors"
    save_file({k: v.contiguous() for k, v in model.checkpoint_state().items()}, str(path))
    fresh = build_model(config, data)
    fresh.load_checkpoint_state(load_file(str(path)))
    np.testing.assert_array_equal(_scores(fresh, data.n_users), before)
    assert fresh.describe()["hyper"] == model.describe()["hyper"] == model.selection["chosen"]  # type: ignore[union-attr]


# -- limits and config rules ---------------------------------------------------------------------
def test_ease_refuses_a_catalogue_above_max_items() -> None:
    with pytest.raises(ConfigError, match=r"max_items.*90 items.*limit of 50"):
        EASE(10, 90, EASEConfig(max_items=50))
    EASE(10, 50, EASEConfig(max_items=50))  # at the limit: fine


def test_cli_reports_the_catalogue_limit(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(
        [
            "train",
            "--dataset",
            "synthetic",
            "--synthetic-users",
            "60",
            "--synthetic-items",
            "90",
            "--model",
            "ease",
            "--max-items",
            "50",
            "--runs-dir",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert code == 2
    assert "90 items" in capsys.readouterr().err


@pytest.mark.parametrize(
    "cls,kwargs,field",
    [
        (EASEConfig, {"l2_grid": ()}, "l2_grid"),
        (EASEConfig, {"l2_grid": (0.0,)}, "l2_grid"),
        (EASEConfig, {"l2_grid": (math.inf,)}, "l2_grid"),
        (EASEConfig, {"l2_grid": (5.0, 5.0)}, "l2_grid"),
        (EASEConfig, {"max_items": 0}, "max_items"),
        (ItemKNNConfig, {"k_grid": ()}, "k_grid"),
        (ItemKNNConfig, {"k_grid": (0,)}, "k_grid"),
        (ItemKNNConfig, {"shrink_grid": (-1.0,)}, "shrink_grid"),
        (ItemKNNConfig, {"shrink_grid": ()}, "shrink_grid"),
    ],
)
def test_config_rules_name_the_field(cls: type, kwargs: dict, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        cls(**kwargs)
    assert info.value.field == field


# -- validation search ---------------------------------------------------------------------------
def test_grid_search_keeps_the_validation_best_candidate() -> None:
    x = _random_matrix(seed=3)
    model = _fitted(EASE, EASEConfig(l2_grid=(1.0, 10.0, 100.0, 1000.0)), x)
    # A constructed validation: the score is a function of the fitted L2 with its peak at 100.
    table = {1.0: 0.10, 10.0: 0.20, 100.0: 0.35, 1000.0: 0.30}
    records: list[dict] = []
    best = select_on_validation(model, lambda: {"ndcg@10": table[model.chosen()["l2"]]}, "ndcg@10", records.append)
    assert best == 0.35 and model.chosen() == {"l2": 100.0}
    assert [r["candidate"]["l2"] for r in records] == [1.0, 10.0, 100.0, 1000.0]
    assert [r["valid"]["ndcg@10"] for r in records] == [0.10, 0.20, 0.35, 0.30]
    assert model.selection is not None and model.selection["chosen"] == {"l2": 100.0}
    assert [g["ndcg@10"] for g in model.selection["grid"]] == [0.10, 0.20, 0.35, 0.30]
    direct = _fitted(EASE, EASEConfig(l2_grid=(100.0,)), x)  # the weights are those of the chosen value
    torch.testing.assert_close(model.weights, direct.weights)
    # A second fit call does not search again.
    again: list[dict] = []
    assert select_on_validation(model, lambda: {"ndcg@10": -1.0}, "ndcg@10", again.append) == 0.35 and not again


def test_grid_search_ties_and_nan_keep_the_earlier_candidate() -> None:
    x = _random_matrix(seed=4)
    model = _fitted(ItemKNN, ItemKNNConfig(k_grid=(2, 4, 8), shrink_grid=(0.0,)), x)
    table = {2: math.nan, 4: 0.5, 8: 0.5}
    select_on_validation(model, lambda: {"ndcg@10": table[model.chosen()["k"]]}, "ndcg@10", lambda r: None)
    assert model.chosen() == {"k": 4, "shrink": 0.0}


def test_trainer_search_records_history_and_model_info() -> None:
    data = synthetic()
    split = split_of(data, "ratio")
    model = build_model(ItemKNNConfig(k_grid=(5, 30), shrink_grid=(0.0, 10.0)), data)
    trainer = Trainer(model, data, split, TrainConfig(device="cpu"))
    seen: list[dict] = []
    trainer.add_callback("on_epoch_end", lambda tr, rec: seen.append(rec))
    fit = trainer.fit()
    assert len(fit.history) == 4 and seen == fit.history
    scores = [r["valid"]["ndcg@10"] for r in fit.history]
    assert fit.best_score == max(scores)
    best = fit.history[scores.index(max(scores))]["candidate"]
    assert model.describe()["hyper"] == best and model.describe()["selection"]["searched"]
    assert trainer.validate()["ndcg@10"] == pytest.approx(max(scores), abs=1e-12)


def test_single_value_grid_is_not_searched() -> None:
    data = synthetic()
    model = build_model(EASEConfig(l2_grid=(50.0,)), data)
    fit = Trainer(model, data, split_of(data, "ratio"), TrainConfig(device="cpu")).fit()
    assert len(fit.history) == 1 and not model.describe()["selection"]["searched"]
    assert model.describe()["hyper"] == {"l2": 50.0}


# -- cold items ----------------------------------------------------------------------------------
@pytest.mark.parametrize("config", [EASEConfig(l2_grid=(20.0,)), ItemKNNConfig(k_grid=(20,), shrink_grid=(0.0,))])
def test_cold_items_score_equal_and_at_the_random_level(config: object) -> None:
    data = synthetic()
    split = split_of(data, "cold-items")
    model = build_model(config, data)
    Trainer(model, data, split, TrainConfig(device="cpu")).fit()
    cold = torch.from_numpy(np.concatenate([split.valid_candidates, split.test_candidates]).astype(np.int64))
    scores = model.full_scores(torch.arange(data.n_users))[:, cold]
    assert (scores == 0).all()  # nothing known about a held-out item: the same score for all
    result = evaluate_all(model, data, split, "test")["primary"].to_dict()
    assert result["candidates"] == "cold"
    # The tie-aware evaluation turns one big tie into the exact expected metrics of a random ranking.
    for name, value in result["metrics"].items():
        assert value == pytest.approx(result["random"][name], abs=1e-9), name


# -- CLI end to end ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "model,flags,n_candidates",
    [
        ("ease", ["--l2-grid", "5,50"], 2),
        ("itemknn", ["--k-grid", "5,20", "--shrink-grid", "0"], 2),
    ],
)
def test_cli_trains_searches_and_reloads(
    tmp_path: Path, capsys: pytest.CaptureFixture, model: str, flags: list[str], n_candidates: int
) -> None:
    code = main(
        [
            "train",
            "--dataset",
            "synthetic",
            "--synthetic-users",
            "120",
            "--synthetic-items",
            "90",
            "--model",
            model,
            *flags,
            "--runs-dir",
            str(tmp_path),
            "--run-id",
            "r",
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    run = RunStore(tmp_path).get("r")
    assert run.status()["state"] == "done"
    results = run.results()
    assert results is not None and results["model"] == model
    info = results["model_info"]
    assert len(info["selection"]["grid"]) == n_candidates and info["hyper"] == info["selection"]["chosen"]
    assert len(run.history()) == n_candidates
    loaded, config = load_run_model(run)
    data, split = prepare_data(config)
    again = evaluate(loaded, data, split, "test").metrics
    assert again["ndcg@10"] == pytest.approx(results["test"]["primary"]["metrics"]["ndcg@10"], abs=1e-12)


# -- duration estimate ---------------------------------------------------------------------------
def test_estimate_counts_grid_candidates_not_epochs() -> None:
    from rec_app import estimate as est
    from rec_core.experiment import RunConfig

    ease = RunConfig(model=EASEConfig(), train=TrainConfig(epochs=300)).to_dict()
    knn = RunConfig(model=ItemKNNConfig(k_grid=(10, 20), shrink_grid=(0.0, 5.0, 9.0))).to_dict()
    assert est.fits_per_run(ease) == len(EASEConfig().l2_grid) and est.fits_per_run(knn) == 6
    assert est.fits_per_run(RunConfig(model=MFConfig(), train=TrainConfig(epochs=7)).to_dict()) == 7
    size = est.KNOWN_SIZES["ml-100k"]
    profile = est.Profile(80_000, 943, 1682, epoch_s={"fit": 0.5}, valid_s={}, test_s=0.2)
    e = est.estimate(ease, size, profile, cache_warm=True, startup_s=10.0)
    n_fits = len(EASEConfig().l2_grid)
    assert e.parts["training"] == pytest.approx(n_fits * 0.5)  # each candidate fitted and validated once
    assert e.parts["evaluation"] == 0.0 and e.parts["testing"] == pytest.approx(0.2)
    assert math.isfinite(e.total_s) and e.total_s < 60  # seconds, not 300 epochs
