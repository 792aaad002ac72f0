"""Trainer: reproducible, continues across fit calls, stops cooperatively, restores the best."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from rec_core.errors import ConfigError
from rec_core.evaluate import evaluate
from rec_core.models.mf import MF, MFConfig
from rec_core.models.popularity import Popularity
from rec_core.train import NegativeSampler, TrainConfig, Trainer, TrainingDiverged
from tests.helpers import split_of, synthetic


def _trainer(seed: int = 0, **kw: object) -> Trainer:
    data = synthetic()
    split = split_of(data)
    torch.manual_seed(seed)
    model = MF(data.n_users, data.n_items, MFConfig(embed_dim=16))
    cfg = TrainConfig(**{"epochs": 4, "lr": 0.01, "batch_size": 256, "seed": seed, "device": "cpu", **kw})
    return Trainer(model, data, split, cfg)


def test_negatives_are_never_training_positives() -> None:
    data = synthetic()
    split = split_of(data)
    users, items = data.users[split.train], data.items[split.train]
    sampler = NegativeSampler(users, items, data.n_items)
    u = torch.from_numpy(users.astype(np.int64)).repeat(3)
    neg = sampler.sample(u, torch.Generator().manual_seed(0))
    positives = set(zip(users.tolist(), items.tolist()))
    assert not any((a, b) in positives for a, b in zip(u.tolist(), neg.tolist()))
    assert neg.min() >= 0 and neg.max() < data.n_items


def test_same_seed_same_metrics_other_seed_differs() -> None:
    a = _trainer(0)
    a.fit()
    b = _trainer(0)
    b.fit()
    c = _trainer(1)
    c.fit()
    ma, mb, mc = (evaluate(t.model, t.data, t.split, "test").metrics for t in (a, b, c))
    assert ma == mb
    assert ma != mc


def test_mf_learns_beyond_popularity_on_synthetic() -> None:
    t = _trainer(0, epochs=30, patience=0)
    t.fit()
    pop = Popularity(t.data.n_users, t.data.n_items)
    Trainer(pop, t.data, t.split, TrainConfig(device="cpu")).fit()
    mf_ndcg = evaluate(t.model, t.data, t.split, "test").metrics["ndcg@10"]
    pop_ndcg = evaluate(pop, t.data, t.split, "test").metrics["ndcg@10"]
    assert mf_ndcg > pop_ndcg


def test_second_fit_continues() -> None:
    t = _trainer(0, epochs=2)
    first = t.fit()
    opt = t._optimizer
    second = t.fit(3)
    assert first.epochs_run == 2 and second.epochs_run == 3
    assert t.epoch == 5
    assert [h["epoch"] for h in second.history] == [3, 4, 5]
    assert t._optimizer is opt  # Adam's moments carry over


def test_early_stopping_restores_best_weights() -> None:
    t = _trainer(0, epochs=40, patience=2, lr=0.3)  # a high lr overfits fast: validation peaks
    res = t.fit()
    assert res.early_stopped
    assert res.best_epoch < t.epoch
    again = t.validate()["ndcg@10"]
    assert again == pytest.approx(res.best_score)


def test_cooperative_stop_mid_epoch_keeps_best() -> None:
    t = _trainer(0, epochs=10)
    calls = {"n": 0}

    def stop_after_two_epochs(tr: Trainer, info: dict) -> None:
        calls["n"] += 1
        if tr.epoch >= 2 and info["step"] == 1:
            tr.request_stop()

    t.add_callback("on_step_end", stop_after_two_epochs)
    res = t.fit()
    assert res.stopped and t.epoch == 2
    assert t.validate()["ndcg@10"] == pytest.approx(res.best_score)


def test_stop_check_is_polled() -> None:
    t = _trainer(0, epochs=10)
    t.set_stop_check(lambda: t.epoch >= 1)
    res = t.fit()
    assert res.stopped and t.epoch == 1


def test_nan_loss_raises_clear_error() -> None:
    t = _trainer(0)
    with torch.no_grad():
        t.model.user_emb.weight[0, 0] = float("nan")  # type: ignore[union-attr]
    with pytest.raises(TrainingDiverged, match="lr"):
        t.fit()


def test_callbacks_report_loss_parts_and_valid_metrics() -> None:
    t = _trainer(0, epochs=2)
    records: list[dict] = []
    t.add_callback("on_epoch_end", lambda tr, rec: records.append(rec))
    t.fit()
    assert [r["epoch"] for r in records] == [1, 2]
    assert {"bpr", "total"} <= set(records[0]["loss"])
    assert "ndcg@10" in records[0]["valid"] and records[0]["seconds"] > 0


@pytest.mark.parametrize(("kw", "field"), [({"lr": -1.0}, "lr"), ({"batch_size": 0}, "batch_size"),
                                           ({"device": "tpu"}, "device"), ({"epochs": -1}, "epochs")])
def test_bad_train_config(kw: dict, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        TrainConfig(**kw)
    assert err.value.field == field
