"""bench/speed.py: every preset the app offers is timed, and the interleaved ratios are MF's."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rec_core.models import enhanced

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import speed  # bench/ is a folder of scripts, not a package


def test_cached_presets_cover_every_preset_and_stay_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    # A preset added later (as issue 22's cold and warm) is timed without editing the bench.
    monkeypatch.setitem(enhanced.PRESETS, "cold", {"use_attention": False, "contrastive_weight": 0.0})
    configs = speed.cached_presets()
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
    out = speed._interleaved(runs, rounds=3)
    assert calls == ["mf", "a", "b"] * 3
    for name in ("a", "b"):
        assert out["vs_mf"][name] == pytest.approx(out[name]["median_s"] / out["mf"]["median_s"])
        assert out["cpu_vs_mf"][name] == pytest.approx(out[name]["cpu_median_s"] / out["mf"]["cpu_median_s"])
        assert out[name]["repeats"] == 3
    assert "mf" not in out["vs_mf"]


def test_kernel_floor_times_the_kernels_each_config_needs() -> None:
    import torch

    from rec_core.models.base import TrainContext
    from rec_core.models.enhanced import EnhancedConfig, GPT2RecommenderEnhanced
    from tests.helpers import split_of, synthetic

    data = synthetic()
    split = split_of(data, "ratio")
    ctx = TrainContext(data.n_users, data.n_items, data.users[split.train], data.items[split.train])
    tiny = {"backbone": "tiny-gpt2", "max_length": 32, "embed_dim": 16, "n_heads": 2}
    expected = {
        "attention": ({}, {"user_attention_tokens", "item_attention_tokens"}),
        "scheme1": ({"use_attention": False}, {"user_text_projection", "item_text_projection"}),
        "contrastive": (
            {"contrastive_weight": 0.1},
            {"user_attention_tokens", "item_attention_tokens", "user_infonce_text_view", "item_infonce_text_view"},
        ),
        "cold-like": (
            {"base": "gpt2rec", "use_user_text": False},
            {"item_attention_tokens", "item_pooled_part"},
        ),
    }
    for label, (overrides, keys) in expected.items():
        torch.manual_seed(0)
        model = GPT2RecommenderEnhanced(data.n_users, data.n_items, EnhancedConfig(**tiny, **overrides), dataset=data)
        model.prepare(ctx)
        kernels = speed._kernel_ms(model)
        assert set(kernels) == keys, label
        assert all(v > 0 for v in kernels.values()), label


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
