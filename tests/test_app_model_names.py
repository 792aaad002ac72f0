"""Model display names come from the switches a run ran with, not from its model kind alone."""

from __future__ import annotations

import dataclasses

from rec_app.runs.model_names import model_display_name
from rec_core.models.enhanced import PRESETS, EnhancedConfig


def _config(**model: object) -> dict[str, object]:
    base = dataclasses.asdict(EnhancedConfig(backbone="tiny-gpt2", n_heads=2, embed_dim=16))
    return {"model": {**base, **model}, "data": {"name": "synthetic"}, "split": {"kind": "ratio"}}


def test_attention_off_is_never_called_attention_fusion() -> None:
    name = model_display_name(_config(use_attention=False))
    assert "attention fusion" not in name and "no attention" in name
    assert "attention fusion" in model_display_name(_config(use_attention=True))
    assert "无注意力" in model_display_name(_config(use_attention=False), "zh")


def test_the_preset_is_named_only_while_the_switches_match_it() -> None:
    scheme2 = {**PRESETS["scheme2"], "preset": "scheme2"}
    assert model_display_name(_config(**scheme2)).startswith("LLM-enhanced (scheme 2: attention fusion, LoRA")
    changed = model_display_name(_config(**{**scheme2, "use_attention": False}))
    assert "scheme 2, changed" in changed and "no attention" in changed and "attention fusion" not in changed
    scheme1 = model_display_name(_config(**PRESETS["scheme1"], preset="scheme1"))
    assert scheme1 == "LLM-enhanced (scheme 1: no attention, cached text) · tiny-gpt2"
    scheme3 = model_display_name(_config(**PRESETS["scheme3"], preset="scheme3"), "zh")
    assert "方案三" in scheme3 and "先缓存后 LoRA" in scheme3 and "对比损失 0.1" in scheme3


def test_id_models_and_warm_starts() -> None:
    assert model_display_name({"model": {"name": "mf", "embed_dim": 16}}) == "MF (BPR)"
    assert model_display_name({"name": "pop"}, "zh") == "流行度"
    warm = model_display_name(_config(init_from_run="auto", freeze_mf=True))
    assert "on a fixed MF" in warm
    assert model_display_name(_config(), backbone=False).endswith(")")


def test_the_preset_table_read_without_torch_is_the_models_own() -> None:
    import subprocess
    import sys

    # A fresh interpreter: the home page names runs without importing torch.
    code = (
        "import sys; from rec_app.runs.model_names import _presets; p = _presets(); "
        "assert 'torch' not in sys.modules; import json; print(json.dumps(p, sort_keys=True))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    import json

    assert json.loads(out) == json.loads(json.dumps(PRESETS, sort_keys=True))
