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
