"""The Enhanced model's presets and the recipes' train values, torch-free: the app reads them
without loading the model code."""

from __future__ import annotations

from typing import Any

from rec_core.errors import ConfigError

__all__ = ["PRESETS", "PRESET_TRAIN", "SPLIT_PRESETS", "with_preset", "with_preset_train"]


# The Enhanced model's presets, applied under the fields a user sets explicitly.
PRESETS: dict[str, dict[str, Any]] = {
    # The seed's three schemes (switches only).
    # Fast prototype: frozen cached features, simple fusion.
    "scheme1": {
        "use_cache": True,
        "use_attention": False,
        "freeze_gpt2": True,
        "use_peft": False,
        "contrastive_weight": 0.0,
        "cached_epochs": 0,
    },
    # End-to-end: dynamic encoding with LoRA on the top blocks, attention, contrastive.
    "scheme2": {
        "use_cache": False,
        "use_attention": True,
        "freeze_gpt2": False,
        "use_peft": True,
        "contrastive_weight": 0.1,
        "cached_epochs": 0,
    },
    # Mixed: cached epochs first (fast), then dynamic LoRA epochs.
    "scheme3": {
        "use_cache": False,
        "use_attention": True,
        "freeze_gpt2": False,
        "use_peft": True,
        "contrastive_weight": 0.1,
        "cached_epochs": -1,
    },
    # The measured recipes (bench/README.md, "Presets"), every model value of each, the backbone
    # included: `--model enhanced --preset cold` alone reproduces the cold-items suite's row.
    # cold-items: GPT2Recommender's whole score (base "gpt2rec", trained with it from scratch)
    # plus the gated cross-attention part, its keys on content tokens only (validation NDCG@10
    # +6% over all tokens on seeds 0-2, fold 0). The text-to-ID map lowered validation NDCG@10
    # on every seed tried, contrastive 0.2 did not raise it (bench/README.md, "Presets"): off.
    "cold": {
        "backbone": "minilm",
        "embed_dim": 64,
        "base": "gpt2rec",
        "use_cache": True,
        "use_attention": True,
        "freeze_gpt2": True,
        "use_peft": False,
        "contrastive_weight": 0.0,
        "cached_epochs": 0,
        "n_heads": 4,
        "text_rank": 64,
        "id_dropout": 0.2,
        "mf_dropout": False,
        "text_to_id": False,
        "content_keys": True,
        "gate_init": 0.1,
        "base_gate_init": 0.1,
        "init_from_run": "",
    },
    # ratio: scheme 1 over the newest matching MF run (`auto`), gate 0, everything trainable:
    # the search's best warm recipe (bench/results/search_text_ratio.json).
    "warm": {
        "backbone": "minilm",
        "embed_dim": 64,
        "base": "mf",
        "use_cache": True,
        "use_attention": False,
        "freeze_gpt2": True,
        "use_peft": False,
        "contrastive_weight": 0.0,
        "cached_epochs": 0,
        "id_dropout": 0.1,
        "mf_dropout": False,
        "text_to_id": False,
        "gate_init": 0.0,
        "init_from_run": "auto",
        "freeze_mf": False,
    },
}
# Train values a recipe preset sets (its learning rate and budget: MF's epoch cap and
# patience in the suites), under the train fields a user sets explicitly.
PRESET_TRAIN: dict[str, dict[str, Any]] = {
    "cold": {"lr": 0.005, "epochs": 300, "patience": 20, "batch_size": 2048},
    "warm": {"lr": 0.0003, "epochs": 300, "patience": 20, "batch_size": 2048},
}
# The preset the Train page starts from when a split is chosen.
SPLIT_PRESETS: dict[str, str] = {"cold-items": "cold", "ratio": "warm"}


def with_preset(model: dict[str, Any]) -> dict[str, Any]:
    """A model section with its `preset`'s switches filled in where it sets none (explicit
    fields win); ConfigError("model.preset", ...) for a preset that does not exist."""
    out = dict(model)
    preset = out.get("preset")
    if not preset:
        return out
    if preset not in PRESETS:
        raise ConfigError("model.preset", f"allowed: {', '.join(PRESETS)}; got {preset!r}")
    return {**PRESETS[preset], **out}


def with_preset_train(model: dict[str, Any], train: dict[str, Any]) -> dict[str, Any]:
    """A train section with the train values of the model section's recipe preset filled in
    where it sets none (explicit fields win)."""
    preset = model.get("preset") if isinstance(model, dict) else None
    return {**PRESET_TRAIN.get(str(preset or ""), {}), **train}
