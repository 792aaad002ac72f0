"""Trainer: reproducible, continues across fit calls, stops cooperatively, restores the best."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rec_core.data import DataConfig
from rec_core.errors import ConfigError
from rec_core.evaluate import evaluate
from rec_core.experiment import RunConfig, execute_run, start_run
from rec_core.models.mf import MF, MFConfig
from rec_core.models.popularity import Popularity
from rec_core.models.registry import model_config_class
from rec_app.runs.table import read_row
from rec_core.runs import Run, RunStore
from rec_core.train import NegativeSampler, TrainConfig, Trainer, TrainingDiverged
from rec_core.train.phase_ablation import earlier_phases_alone
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


def test_adam_is_fused_on_cpu_and_steps_as_the_per_tensor_loop() -> None:
    # fused: one kernel for every parameter's update (issue 25: a third of an Enhanced step's
    # operators were the per-tensor Adam ops); the same update as the plain loop, to rounding.
    t = _trainer(0)
    opt = t._ensure_optimizer()
    assert opt.defaults["fused"] is True and not opt.defaults["foreach"]
    params = [p for p in t.model.parameters() if p.requires_grad]
    copies = [p.detach().clone().requires_grad_() for p in params]
    start = [p.detach().clone() for p in params]
    plain = torch.optim.Adam(copies, lr=t.config.lr, foreach=False)
    for _ in range(3):
        for group in (params, copies):
            for p in group:
                p.grad = torch.ones_like(p) * 0.5 + p.detach() ** 2
        opt.step()
        plain.step()
    for a, b, a0 in zip(params, copies, start):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
        assert not torch.equal(a, a0)  # the steps did move the weights


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


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"lr": -1.0}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"device": "tpu"}, "device"),
        ({"epochs": -1}, "epochs"),
    ],
)
def test_bad_train_config(kw: dict, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        TrainConfig(**kw)
    assert err.value.field == field


# -- phases and the selection of the restored epoch ---------------------------------------------
def _scripted(monkeypatch: pytest.MonkeyPatch, scores: dict[int, float]) -> None:
    """Validation returns `scores[epoch]` as ndcg@10: the best epoch is known in advance."""
    monkeypatch.setattr(Trainer, "validate", lambda self: {"ndcg@10": scores.get(self.epoch, 0.0)})


@pytest.mark.parametrize(("select_best", "best_epoch", "best_phase"), [("any", 2, "early"), ("final_phase", 4, "late")])
def test_best_epoch_is_chosen_over_all_phases_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch, select_best: str, best_epoch: int, best_phase: str
) -> None:
    _scripted(monkeypatch, {1: 0.5, 2: 0.9, 3: 0.3, 4: 0.4})
    t = _trainer(0, epochs=2, patience=0, select_best=select_best)
    records: list[dict] = []
    t.add_callback("on_epoch_end", lambda tr, rec: records.append(rec))
    t.begin_phase("early", final=False)
    t.fit(2)
    state_after_2 = {k: v.clone() for k, v in t.model.state_dict().items()}
    t.begin_phase("late", final=True)
    res = t.fit(2)
    assert [r["phase"] for r in records] == ["early", "early", "late", "late"]
    assert (res.best_epoch, res.best_phase) == (best_epoch, best_phase)
    assert (t.best_epoch, t.best_phase) == (best_epoch, best_phase)
    assert t.peak == {"epoch": 2, "phase": "early", "score": 0.9}  # the overall peak, whatever is restored
    assert [(p["name"], p["first_epoch"], p["last_epoch"]) for p in t.phases] == [("early", 1, 2), ("late", 3, 4)]
    # Each phase's own best, whichever is restored; the earlier phase's weights are kept.
    assert [(p["best_epoch"], p["best_score"]) for p in t.phases] == [(2, 0.9), (4, 0.4)]
    early = t.phase_state("early")
    assert early is not None and all(torch.equal(v, state_after_2[k]) for k, v in early.items())
    assert t.phase_state("late") is None  # the final phase's best is never an ablation
    restored_cached = all(torch.equal(v, state_after_2[k]) for k, v in t.model.state_dict().items())
    assert restored_cached == (best_phase == "early")


def test_final_phase_without_a_validated_epoch_keeps_the_earlier_best(monkeypatch: pytest.MonkeyPatch) -> None:
    _scripted(monkeypatch, {1: 0.5, 2: 0.9})
    t = _trainer(0, epochs=2, patience=0)
    t.begin_phase("early", final=False)
    t.fit(2)
    t.begin_phase("late", final=True)
    t.set_stop_check(lambda: True)  # stopped before the final phase's first step
    res = t.fit(2)
    assert res.stopped and t.epoch == 2
    assert (res.best_epoch, res.best_phase) == (2, "early")


@pytest.mark.parametrize(
    ("scores", "best_epoch", "best_phase", "epochs_run"),
    [
        # The late phase never beats the early best: it stops after `patience` epochs of its own.
        ({1: 0.5, 2: 0.6, 3: 0.7, 4: 0.65, 5: 0.68, 6: 0.9}, 3, "early", 5),
        # It beats it at epoch 4, then stops after two epochs without a better one.
        ({1: 0.5, 2: 0.6, 3: 0.7, 4: 0.8, 5: 0.75, 6: 0.78, 7: 0.95}, 4, "late", 6),
    ],
)
def test_patience_is_counted_within_each_phase(
    monkeypatch: pytest.MonkeyPatch, scores: dict[int, float], best_epoch: int, best_phase: str, epochs_run: int
) -> None:
    _scripted(monkeypatch, scores)
    t = _trainer(0, patience=2)
    t.begin_phase("early", final=False)
    first = t.fit(3)
    t.begin_phase("late", final=True)
    res = t.fit(5)
    assert not first.early_stopped and res.early_stopped  # the count restarted with the late phase
    assert t.epoch == epochs_run and (res.best_epoch, res.best_phase) == (best_epoch, best_phase)
    assert t.phases[1]["last_epoch"] == epochs_run
    # A phase may have its own patience: 1 stops the late phase after its first bad epoch.
    _scripted(monkeypatch, scores)
    t = _trainer(0, patience=2)
    t.begin_phase("early", final=False)
    t.fit(3)
    t.begin_phase("late", final=True)
    assert t.fit(5, patience=1).early_stopped and t.epoch == (4 if best_phase == "early" else 5)


def test_an_earlier_phase_alone_is_tested_once_and_the_restored_weights_come_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _scripted(monkeypatch, {1: 0.5, 2: 0.6, 3: 0.9, 4: 0.7})
    t = _trainer(0, patience=0)
    modes: list[str] = []
    t.begin_phase("early", final=False)
    t.fit(2)
    t.begin_phase("late", final=True)
    t.fit(2)
    assert t.best_phase == "late"
    restored = t.snapshot()
    setups = {"early": lambda: modes.append("early"), "late": lambda: modes.append("late")}
    alone = earlier_phases_alone(t, setups, "late", t.data, t.split, t.eval_config)
    assert modes == ["early", "late"]  # evaluated in the early phase's mode, then put back
    assert all(torch.equal(v, restored[k]) for k, v in t.snapshot().items())
    early = t.phase_state("early")
    assert early is not None and set(alone) == {"early"} and alone["early"]["epoch"] == 2
    probe = MF(t.data.n_users, t.data.n_items, MFConfig(embed_dim=16))
    probe.load_state_dict({**t.model.state_dict(), **early})
    direct = {name: evaluate(probe, t.data, t.split, name, t.eval_config).metrics for name in ("valid", "test")}
    assert alone["early"]["valid"]["ndcg@10"] == pytest.approx(direct["valid"]["ndcg@10"], abs=0)
    assert alone["early"]["test"]["ndcg@10"] == pytest.approx(direct["test"]["ndcg@10"], abs=0)
    # When the restored weights are the earlier phase's own, there is nothing to ablate.
    _scripted(monkeypatch, {1: 0.5, 2: 0.9, 3: 0.3, 4: 0.4})
    t = _trainer(0, patience=0)
    t.begin_phase("early", final=False)
    t.fit(2)
    t.begin_phase("late", final=True)
    t.fit(2)
    assert t.best_phase == "early" and earlier_phases_alone(t, setups, "late", t.data, t.split, t.eval_config) == {}


def test_single_phase_epochs_are_named_train() -> None:
    t = _trainer(0, epochs=2)
    res = t.fit()
    assert [h["phase"] for h in res.history] == ["train", "train"] and res.best_phase == "train"


def test_select_best_is_validated() -> None:
    assert TrainConfig().select_best == "any"
    with pytest.raises(ConfigError) as err:
        TrainConfig(select_best="best")  # type: ignore[arg-type]
    assert err.value.field == "select_best" and "final_phase" in str(err.value) and "any" in str(err.value)


# -- completeness of a run ------------------------------------------------------------------------
def _run(tmp_path: Path, model: str = "mf", **train: object) -> Run:
    """A created (queued) run of a tiny synthetic dataset; nothing trained yet."""
    cfg = RunConfig(
        data=DataConfig(name="synthetic", synthetic_users=120, synthetic_items=90),
        model=model_config_class(model)(),
        seed=0,
        train=TrainConfig(**{"epochs": 2, "batch_size": 512, "device": "cpu", **train}),
    )  # type: ignore[arg-type]
    return start_run(cfg, RunStore(tmp_path))


def test_stop_before_the_first_epoch_leaves_no_test_metrics(tmp_path: Path) -> None:
    run = _run(tmp_path)
    run.request_stop()  # e.g. the Stop button pressed while the model was being built
    results = execute_run(run)
    assert "test" not in results and "valid" not in results
    assert run.results() is not None and "test" not in run.results()  # type: ignore[operator]
    completion = results["completion"]
    assert completion["state"] == "stopped" and completion["reason"] == "user_stop"
    assert completion["epochs_completed"] == 0 and "no epoch completed" in completion["summary"]
    status = run.status()
    assert status["state"] == "stopped" and status["completion"]["epochs_completed"] == 0
    assert not (run.path / "tables" / "per_user_test.parquet").exists()
    row = read_row(run)
    assert row is not None and row.state == "stopped" and not row.comparable and row.metrics == {}


def test_finished_and_user_stopped_runs_say_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    done = execute_run(_run(tmp_path, patience=0))
    assert done["completion"] | {"summary": ""} == {
        "state": "finished",
        "reason": "max_epochs",
        "epochs_completed": 2,
        "best_epoch": done["best_epoch"],
        "best_phase": "train",
        "select_best": "any",
        "summary": "",
    }
    assert done["phases"] == [
        {
            "name": "train",
            "epochs_planned": 2,
            "first_epoch": 1,
            "last_epoch": 2,
            "best_epoch": done["best_epoch"],
            "best_valid": done["valid"]["primary"]["metrics"]["ndcg@10"],
        }
    ]
    assert done["phase_alone"] == {}  # one phase: nothing to ablate
    run = _run(tmp_path, epochs=5)
    # The stop comes from the run's STOP file, polled between steps.
    original = Trainer._train_epoch

    def stop_after_first(self: Trainer, model: object) -> dict | None:
        record = original(self, model)
        if self.epoch == 1:
            run.request_stop()
        return record

    monkeypatch.setattr(Trainer, "_train_epoch", stop_after_first)
    stopped = execute_run(run)
    assert stopped["completion"]["state"] == "stopped" and stopped["completion"]["epochs_completed"] == 1
    assert "stopped by the user after epoch 1" in stopped["completion"]["summary"]
    assert "test" in stopped  # one epoch trained: tested, and comparable
    row = read_row(run)
    assert row is not None and row.comparable and row.best_epoch == 1


def test_models_without_gradient_training_are_finished_even_when_stopped(tmp_path: Path) -> None:
    run = _run(tmp_path, model="pop")
    run.request_stop()
    results = execute_run(run)
    assert results["completion"]["state"] == "finished" and results["completion"]["reason"] == "fitted"
    assert "test" in results and run.status()["state"] == "done"
