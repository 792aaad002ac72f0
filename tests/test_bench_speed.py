"""bench/speed.py: every preset the app offers is timed, and the interleaved ratios are MF's."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rec_core.models import enhanced

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import speed_common  # bench/ is a folder of scripts, not a package


def test_cached_presets_cover_every_preset_and_stay_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    # A preset added later (as issue 22's cold and warm) is timed without editing the bench.
    monkeypatch.setitem(enhanced.PRESETS, "cold", {"use_attention": False, "contrastive_weight": 0.0})
    configs = speed_common.cached_presets()
    assert {"enhanced_default", "enhanced_scheme1", "enhanced_scheme3_cached_phase", "enhanced_preset_cold"} <= set(
        configs
    )
    assert configs["enhanced_preset_cold"].preset == "cold"
    # Scheme 2 has no cached epoch; scheme 3 is timed in its cached phase (the bench sets use_cache).
    assert not any(name.endswith("scheme2") for name in configs)
    assert configs["enhanced_scheme3_cached_phase"].cached_epochs == -1


def test_interleaved_runs_each_once_per_round_and_divides_by_mf() -> None:
    calls: list[str] = []
    runs = {name: (lambda name=name: calls.append(name)) for name in ("mf", "a", "b")}
    out = speed_common.interleaved(runs, rounds=3)
    assert calls == ["mf", "a", "b"] * 3
    for name in ("a", "b"):
        assert out["vs_mf"][name] == pytest.approx(out[name]["median_s"] / out["mf"]["median_s"])
        assert out["cpu_vs_mf"][name] == pytest.approx(out[name]["cpu_median_s"] / out["mf"]["cpu_median_s"])
        assert out[name]["repeats"] == 3
    assert "mf" not in out["vs_mf"]


def test_product_counter_counts_every_product_forward_and_backward() -> None:
    import torch
    import torch.nn.functional as F

    import speed_floor

    n, k, m, b = 5, 7, 3, 4
    x, w = torch.randn(n, k, requires_grad=True), torch.randn(m, k, requires_grad=True)
    bias = torch.randn(m, requires_grad=True)
    p, q = torch.randn(b, n, k, requires_grad=True), torch.randn(b, k, m)
    with speed_floor.ProductCounter() as counter:
        # Linear: x W^T + c forward, and backward x's and W's gradients; a batched product whose
        # right side needs no gradient: forward and the left side's gradient only.
        (F.linear(x, w, bias).sum() + torch.bmm(p, q).sum() + torch.relu(x).sum()).backward()
    assert counter.macs == 3 * n * k * m + 2 * b * n * k * m
    assert counter.seconds > 0 and counter.ops > 6  # relu, sums and the backward's operators too
    assert speed_floor.product_macs(torch.ops.aten.relu.default, (x,)) == 0


def test_the_floor_counts_a_text_models_products_and_none_in_mf() -> None:

    import speed_floor
    from rec_core.models.enhanced import EnhancedConfig, GPT2RecommenderEnhanced
    from rec_core.models.mf import MF, MFConfig
    from rec_core.train import TrainConfig, Trainer
    from tests.helpers import split_of, synthetic

    data = synthetic()
    split = split_of(data, "ratio")
    tiny = {"backbone": "tiny-gpt2", "max_length": 32, "embed_dim": 16, "n_heads": 2}
    counted = {}
    for name, model in (
        ("mf", MF(data.n_users, data.n_items, MFConfig(embed_dim=16))),
        ("attention", GPT2RecommenderEnhanced(data.n_users, data.n_items, EnhancedConfig(**tiny), dataset=data)),
    ):
        tr = Trainer(model, data, split, TrainConfig(epochs=0, batch_size=256, device="cpu"))
        tr.fit(0)
        counted[name] = speed_floor.count_epoch(lambda tr=tr, model=model: tr._train_epoch(model), steps=2)
    assert counted["mf"]["macs_per_step"] == 0 and counted["mf"]["ops_per_step"] > 0
    assert counted["attention"]["macs_per_step"] > 0 and counted["attention"]["products_ms_per_step"] > 0
    assert counted["attention"]["ops_per_step"] > counted["mf"]["ops_per_step"]


def test_floor_is_mf_plus_the_products_at_the_peak_rate() -> None:
    import pytest

    import speed_floor

    row = {
        "mf_epoch_cpu_s": 0.1,
        "epoch_cpu_s": 0.5,
        "macs_per_step": 2e8,
        "products_ms_per_step": 8.0,
        "ops_per_step": 900,
    }
    out = speed_floor.with_floor(row, steps=40, peak=50.0)
    assert out["floor_epoch_s"] == pytest.approx(0.1 + 40 * 2e8 / 50e9)  # 0.26 s
    assert out["floor_vs_mf"] == pytest.approx(2.6) and out["epoch_vs_mf"] == pytest.approx(5.0)
    assert out["products_gmacs_in_step"] == pytest.approx(25.0)
    assert out["rest_beyond_mf_ms_per_step"] == pytest.approx(1e3 * 0.4 / 40 - 8.0)  # 2 ms
    table = speed_floor.floor_markdown(
        {"steps_per_epoch": 40, "peak_gmacs": 50.0, "mf": {"ops_per_step": 77}, "x": out}
    )
    assert "| x | 0.500 | 5.0x | 200 | 2.6x | 8.0, 25 | 2.0 | 900 |" in table


def test_before_after_summary_takes_medians_over_runs() -> None:
    import speed_ab

    def run(mf: float, a: float, ev: float) -> dict[str, object]:
        return {
            "mf": {"cpu_median_s": mf},
            "a": {"cpu_median_s": a},
            "cpu_vs_mf": {"a": a / mf},
            "evaluation": {"cpu_vs_mf": {"a": ev}},
        }

    out = speed_ab._summary([run(1.0, 4.0, 1.5), run(2.0, 5.0, 1.0), run(1.5, 9.0, 2.0)])
    assert out["mf"]["cpu_s_median"] == 1.5
    assert out["a"]["cpu_s_median"] == 5.0 and out["a"]["cpu_s"] == [4.0, 5.0, 9.0]
    assert out["a"]["vs_mf_median"] == pytest.approx(4.0)  # of 4.0, 2.5 and 6.0
    assert "vs_mf" not in out["mf"]
    assert out["evaluation_vs_mf_median"] == {"a": 1.5}
