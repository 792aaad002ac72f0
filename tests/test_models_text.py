"""GPT2RecommenderEnhanced and GPT2Recommender: attention, LoRA, cache switch, InfoNCE, cold start."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from rec_core.data import DataConfig
from rec_core.errors import ConfigError
from rec_core.evaluate import evaluate
from rec_core.experiment import RunConfig, execute_run, load_run_model, start_run
from rec_core.models.base import Batch, TrainContext
from rec_core.models.enhanced import EnhancedConfig, GPT2RecommenderEnhanced
from rec_core.models.losses import info_nce
from rec_core.models.mf import MF, MFConfig
from rec_core.runs import RunStore
from rec_app.runs.table import read_row
from rec_core.train import TrainConfig, Trainer
from tests.helpers import split_of, synthetic

TINY = {"backbone": "tiny-gpt2", "max_length": 32, "embed_dim": 16, "n_heads": 2}


def _model(cfg: EnhancedConfig, split_kind: str = "ratio") -> tuple[GPT2RecommenderEnhanced, object, object]:
    data = synthetic()
    split = split_of(data, split_kind)
    torch.manual_seed(0)
    m = GPT2RecommenderEnhanced(data.n_users, data.n_items, cfg, dataset=data)
    m.prepare(TrainContext(data.n_users, data.n_items, data.users[split.train], data.items[split.train]))
    return m, data, split


def test_info_nce_matches_hand_computed_value() -> None:
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    b = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    t = 0.5
    # cosine logits: a0.b0 = 1, a0.b1 = 1/sqrt2, a1.b0 = 0, a1.b1 = 1/sqrt2; divided by t.
    s = 1 / math.sqrt(2)
    logits = torch.tensor([[1.0, s], [0.0, s]]) / t
    rows = -(torch.log_softmax(logits, 1)[0, 0] + torch.log_softmax(logits, 1)[1, 1]) / 2
    cols = -(torch.log_softmax(logits.T, 1)[0, 0] + torch.log_softmax(logits.T, 1)[1, 1]) / 2
    expected = (rows + cols) / 2
    assert info_nce(a, b, t).item() == pytest.approx(expected.item(), rel=1e-6)


def test_attention_rows_sum_to_one_with_the_texts_token_count() -> None:
    m, data, _ = _model(EnhancedConfig(**TINY))
    for k in (0, 5):
        ex = m.explain_item(k)
        assert ex.weights.shape == (2, len(ex.tokens))
        np.testing.assert_allclose(ex.weights.sum(axis=1), 1.0, rtol=1e-5)
        assert len(ex.tokens) == int(m.item_tower.text.mask[k].sum())
        assert {"title", "genres"} <= set(ex.fields)
        summed = ex.field_weights()
        np.testing.assert_allclose(sum(summed.values()), 1.0, rtol=1e-5)
    ex = m.explain_user(3)
    np.testing.assert_allclose(ex.weights.sum(axis=1), 1.0, rtol=1e-5)
    assert "occupation" in ex.fields


def test_explain_needs_attention_and_a_valid_index() -> None:
    m, _, _ = _model(EnhancedConfig.from_preset("scheme1", **{k: v for k, v in TINY.items() if k != "n_heads"}))
    with pytest.raises(ConfigError, match="use_attention"):
        m.explain_item(0)
    m2, data, _ = _model(EnhancedConfig(**TINY))
    with pytest.raises(ConfigError, match="outside"):
        m2.explain_item(data.n_items + 5)


def test_cached_and_dynamic_encodings_agree_when_nothing_trained() -> None:
    # LoRA's B matrices start at zero: before any step the dynamic path must reproduce the cache.
    m, data, _ = _model(EnhancedConfig.from_preset("scheme2", **TINY, dynamic_layers=1))
    m.eval()
    idx = torch.arange(10)
    cached = m.item_tower.text.cached(idx)
    dynamic = m.item_tower.text.dynamic(m.encoder, idx)
    t = dynamic[0].shape[1]
    # The cache stores float16 states: agreement to float16 precision.
    torch.testing.assert_close(dynamic[0], cached[0][:, :t], rtol=2e-3, atol=2e-3)
    torch.testing.assert_close(dynamic[2], cached[2], rtol=2e-3, atol=2e-3)


@pytest.mark.slow  # > 10 s on a 2-core machine: CI runs it, a plain local run leaves it out
def test_lora_steps_change_only_adapters_fusion_and_ids() -> None:
    m, data, split = _model(EnhancedConfig.from_preset("scheme2", **TINY, dynamic_layers=1))
    before = {n: p.detach().clone() for n, p in m.named_parameters()}
    trainer = Trainer(m, data, split, TrainConfig(epochs=1, lr=0.01, batch_size=512, device="cpu", patience=0))
    trainer.fit(1)
    changed = {n for n, p in m.named_parameters() if not torch.equal(p.detach(), before[n])}
    assert any("lora_" in n for n in changed)
    assert any(n.startswith("item_tower.fusion.") for n in changed)
    assert any(n.startswith("item_tower.ids.") for n in changed)
    backbone_changed = {n for n in changed if n.startswith("encoder.") and "lora_" not in n}
    assert not backbone_changed


@pytest.mark.slow  # > 10 s on a 2-core machine: CI runs it, a plain local run leaves it out
def test_switching_use_cache_between_fits_continues_training() -> None:
    cfg = EnhancedConfig.from_preset("scheme3", **TINY, dynamic_layers=1)
    m, data, split = _model(cfg)
    trainer = Trainer(m, data, split, TrainConfig(epochs=2, lr=0.01, batch_size=512, device="cpu", patience=0))
    # LoRA weights as each epoch ends (before fit restores its best validated epoch).
    at_epoch: dict[int, dict[str, torch.Tensor]] = {}
    trainer.add_callback(
        "on_epoch_end",
        lambda tr, record: at_epoch.__setitem__(
            tr.epoch, {n: p.detach().clone() for n, p in m.named_parameters() if "lora_" in n}
        ),
    )
    m.use_cache = True
    first = trainer.fit(1)
    m.use_cache = False
    second = trainer.fit(1)
    assert trainer.epoch == 2 and first.epochs_run == 1 and second.epochs_run == 1
    assert any(not torch.equal(p, at_epoch[1][n]) for n, p in at_epoch[2].items())
    # Scheme 3's schedule: cached epochs, then dynamic.
    assert [(name, e) for name, e, _ in m.fit_phases(10)] == [("cached", 5), ("dynamic", 5)]


@pytest.mark.slow  # > 10 s on a 2-core machine: CI runs it, a plain local run leaves it out
@pytest.mark.parametrize(
    ("select_best", "best_epoch", "best_phase"), [("any", 2, "cached"), ("final_phase", 4, "dynamic")]
)
def test_scheme3_restores_the_cached_phase_when_the_dynamic_phase_validates_worse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, select_best: str, best_epoch: int, best_phase: str
) -> None:
    # Validation peaks in the cached phase (epoch 2), as it often did on real data: by default
    # the restored weights come from it and the run says so; "final_phase" restores a dynamic
    # (LoRA) epoch whatever validation says, and says where validation peaked.
    scores = {1: 0.5, 2: 0.9, 3: 0.3, 4: 0.4}
    monkeypatch.setattr(Trainer, "validate", lambda self: {"ndcg@10": scores.get(self.epoch, 0.0)})
    config = RunConfig(
        data=DataConfig(name="synthetic", synthetic_users=120, synthetic_items=90),
        model=EnhancedConfig.from_preset("scheme3", **TINY, dynamic_layers=1),
        train=TrainConfig(epochs=4, lr=0.01, batch_size=512, device="cpu", patience=0, select_best=select_best),
    )  # type: ignore[arg-type]
    run = start_run(config, RunStore(tmp_path))
    results = execute_run(run)
    assert [h["phase"] for h in run.history()] == ["cached", "cached", "dynamic", "dynamic"]
    assert results["phases"] == [
        {"name": "cached", "epochs_planned": 2, "first_epoch": 1, "last_epoch": 2, "best_epoch": 2, "best_valid": 0.9},
        {"name": "dynamic", "epochs_planned": 2, "first_epoch": 3, "last_epoch": 4, "best_epoch": 4, "best_valid": 0.4},
    ]
    assert (results["best_epoch"], results["best_phase"]) == (best_epoch, best_phase)
    completion = results["completion"]
    assert (completion["best_epoch"], completion["best_phase"]) == (best_epoch, best_phase)
    if select_best == "any":
        assert (
            "best epoch 2, cached phase: the dynamic phase did not improve validation "
            "(dynamic phase alone: valid NDCG@10 0.4000 (epoch 4))" in completion["summary"]
        )
        assert results["phase_alone"] == {}  # the restored weights are the cached phase's own
    else:
        assert "best epoch 4, dynamic phase" in completion["summary"] and "peaked at epoch 2" in completion["summary"]
        alone = results["phase_alone"]["cached"]  # the cached phase's own best, tested once
        assert alone["epoch"] == 2 and "ndcg@10" in alone["test"] and "ablation" in alone["note"]
    # The restored weights: LoRA's B matrices start at zero and learn only in the dynamic phase.
    model, _ = load_run_model(run)
    lora_b = [p for n, p in model.named_parameters() if "lora_B" in n]
    assert lora_b and all(bool((p == 0).all()) for p in lora_b) == (best_phase == "cached")


def _scheme3_run(tmp_path: Path, epochs: int, **overrides: object) -> tuple[dict, list[dict]]:
    """A tiny scheme 3 run (tiny GPT-2, LoRA on the top block): (results, history)."""
    config = RunConfig(
        data=DataConfig(name="synthetic", synthetic_users=120, synthetic_items=90),
        model=EnhancedConfig.from_preset("scheme3", **{**TINY, "dynamic_layers": 1, **overrides}),
        train=TrainConfig(epochs=epochs, lr=0.01, batch_size=512, device="cpu", patience=0, threads=1),
    )  # type: ignore[arg-type]
    run = start_run(config, RunStore(tmp_path))
    results = execute_run(run)
    return results, run.history()


@pytest.mark.slow  # > 10 s on a 2-core machine: CI runs it, a plain local run leaves it out
def test_scheme3_early_stops_inside_the_dynamic_phase_and_tests_the_cached_phase_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2 cached epochs, up to 4 dynamic ones with a dynamic patience of 1: the dynamic phase
    # beats the cached best at epoch 3, not at epoch 4, and stops there (2 of its 4 epochs).
    scores = {1: 0.5, 2: 0.6, 3: 0.8, 4: 0.7, 5: 0.99, 6: 0.99}
    monkeypatch.setattr(Trainer, "validate", lambda self: {"ndcg@10": scores.get(self.epoch, 0.0)})
    results, history = _scheme3_run(tmp_path, 6, cached_epochs=2, dynamic_patience=1)
    row = read_row(RunStore(tmp_path).get(results["run_id"]))  # what the Compare page and report show
    assert [h["phase"] for h in history] == ["cached", "cached", "dynamic", "dynamic"]
    assert results["early_stopped"] and results["epochs_run"] == 4
    assert (results["best_epoch"], results["best_phase"]) == (3, "dynamic")
    assert [(p["name"], p["epochs_planned"], p["last_epoch"], p["best_epoch"]) for p in results["phases"]] == [
        ("cached", 2, 2, 2),
        ("dynamic", 4, 4, 3),
    ]
    said = "best epoch 3, dynamic phase: cached phase alone: valid NDCG@10 0.6000 (epoch 2)"
    assert said in results["completion"]["summary"]
    assert row is not None and row.best_text == said
    alone = results["phase_alone"]["cached"]
    assert alone["epoch"] == 2 and set(alone["valid"]) == set(alone["test"]) >= {"ndcg@10", "hit@10"}


@pytest.mark.slow  # > 10 s on a 2-core machine: CI runs it, a plain local run leaves it out
def test_scheme3_cached_phase_alone_is_evaluated_with_the_weights_and_mode_it_validated(tmp_path: Path) -> None:
    # Nothing scripted: the cached phase's own best, evaluated again after the run's test (in
    # cache mode, with its snapshot), scores what it scored when it was validated.
    results, history = _scheme3_run(tmp_path, 3, cached_epochs=2)
    cached = results["phases"][0]
    recorded = {h["epoch"]: h["valid"]["ndcg@10"] for h in history if "valid" in h}
    assert cached["best_valid"] == pytest.approx(recorded[cached["best_epoch"]], abs=0)
    if results["best_phase"] == "dynamic":
        alone = results["phase_alone"]["cached"]
        assert alone["epoch"] == cached["best_epoch"]
        assert alone["valid"]["ndcg@10"] == pytest.approx(cached["best_valid"], rel=1e-6)
    else:  # the dynamic epoch validated worse: the run's own weights are the cached phase's
        assert results["phase_alone"] == {}
        assert results["valid"]["primary"]["metrics"]["ndcg@10"] == pytest.approx(cached["best_valid"], rel=1e-4)


def test_dynamic_patience_is_checked_and_applies_to_the_dynamic_phase_only() -> None:
    with pytest.raises(ConfigError, match="dynamic_patience"):
        EnhancedConfig.from_preset("scheme3", **TINY, dynamic_patience=-2)
    m, _, _ = _model(EnhancedConfig.from_preset("scheme3", **TINY, dynamic_layers=1, dynamic_patience=2))
    assert (m.phase_patience("cached"), m.phase_patience("dynamic")) == (None, 2)
    m, _, _ = _model(EnhancedConfig.from_preset("scheme3", **TINY, dynamic_layers=1))
    assert m.phase_patience("dynamic") is None  # -1: the run's patience


def test_invalid_switch_combinations_name_the_fields() -> None:
    with pytest.raises(ConfigError, match="use_peft, use_cache"):
        EnhancedConfig(use_cache=True, use_peft=True)
    with pytest.raises(ConfigError, match="n_heads"):
        EnhancedConfig(embed_dim=64, n_heads=5)
    with pytest.raises(ConfigError, match="contrastive_weight"):
        EnhancedConfig(contrastive_weight=-0.1)
    with pytest.raises(ConfigError, match="preset"):
        EnhancedConfig.from_preset("scheme9")


def test_loss_reports_bpr_contrastive_total() -> None:
    m, data, _ = _model(EnhancedConfig(**TINY, contrastive_weight=0.5))
    m.train()
    g = torch.Generator().manual_seed(0)
    batch = Batch(
        torch.randint(0, data.n_users, (64,), generator=g),
        torch.randint(0, data.n_items, (64,), generator=g),
        torch.randint(0, data.n_items, (64,), generator=g),
    )
    parts = m.loss(batch)
    assert set(parts) == {"bpr", "reg", "contrastive", "total"}
    assert parts["total"].item() == pytest.approx(
        parts["bpr"].item() + parts["reg"].item() + 0.5 * parts["contrastive"].item(), rel=1e-5
    )


@pytest.mark.slow
def test_enhanced_beats_mf_on_cold_items_with_minilm() -> None:
    # Synthetic items' genres drive who interacts with them, and the texts name the genres: an
    # item never seen in training can only be ranked from its text. MF sees nothing (all cold
    # items score alike); the enhanced model must rank them clearly better.
    data = synthetic(300, 200)
    split = split_of(data, "cold-items")
    scores = {}
    for name, build in {
        "mf": lambda: MF(data.n_users, data.n_items, MFConfig(embed_dim=32)),
        "enhanced": lambda: GPT2RecommenderEnhanced(
            data.n_users, data.n_items, EnhancedConfig(embed_dim=32, id_dropout=0.3), dataset=data
        ),
    }.items():
        torch.manual_seed(0)
        model = build()
        Trainer(model, data, split, TrainConfig(epochs=15, lr=5e-3, batch_size=512, patience=5, device="cpu")).fit()
        scores[name] = evaluate(model, data, split, "test").metrics["ndcg@10"]
    assert scores["enhanced"] > scores["mf"] + 0.1, scores
