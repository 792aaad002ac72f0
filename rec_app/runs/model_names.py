"""What a run's model is, in words: one display name derived from its config's switches.

`model_display_name(config, lang)` is the one place that names a model for people (Compare's
groups and legends, the analysis pages' run pickers, the defence report). It reads the model
section of a run's `config.json` (or a bare model section): the kind, then for the enhanced
model what it actually ran with (attention or not, cached or end-to-end text, LoRA, the
contrastive weight, a warm start), and the preset only when the switches still match it, so
a scheme 2 run with attention turned off is never called "attention fusion".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rec_app.i18n import t
from rec_core.configs import PRESETS, sub_table

__all__ = ["model_display_name", "model_short_name", "model_parts", "preset_matches"]

_TEXT_MODELS = ("enhanced", "gpt2rec")


def _presets() -> dict[str, dict[str, Any]]:
    """The Enhanced model's presets (torch-free `rec_core.configs.PRESETS`)."""
    return PRESETS


def _model_section(config: Mapping[str, Any]) -> dict[str, Any]:
    """The model section of a run config, or `config` itself when it is one."""
    if "model" in config and isinstance(config.get("model"), Mapping):
        return sub_table(dict(config), "model")
    return dict(config)


def preset_matches(model: Mapping[str, Any]) -> bool | None:
    """Whether an enhanced model's switches are those of its preset (None: no preset)."""
    preset = str(model.get("preset") or "")
    wanted = _presets().get(preset) if preset else None
    if wanted is None:
        return None
    return all(model.get(k, v) == v for k, v in wanted.items())


def _number(value: float) -> str:
    return f"{value:g}"


def model_parts(model: Mapping[str, Any], lang: str = "en") -> list[str]:
    """The switches that say what a text model ran with, in words (empty for ID-only models)."""
    kind = str(model.get("name", "?"))
    parts: list[str] = []
    if kind == "enhanced":
        matches = preset_matches(model)
        preset = str(model.get("preset") or "")
        if matches is not None:
            name = t(f"mname.preset.{preset}", lang, default=preset)
            parts.append(name if matches else t("mname.preset_changed", lang, preset=name))
        parts.append(t("mname.attention" if model.get("use_attention", True) else "mname.no_attention", lang))
        if model.get("use_cache", True):
            parts.append(t("mname.cached", lang))
        elif model.get("use_peft"):
            parts.append(t("mname.cached_then_lora" if model.get("cached_epochs") else "mname.lora", lang))
        elif not model.get("freeze_gpt2", True):
            parts.append(t("mname.fine_tuned", lang))
        else:
            parts.append(t("mname.dynamic_frozen", lang))
        weight = float(model.get("contrastive_weight") or 0.0)
        if weight > 0:
            parts.append(t("mname.contrastive", lang, weight=_number(weight)))
    if kind == "enhanced" and model.get("base") == "gpt2rec":
        parts.append(t("mname.over_gpt2rec", lang))
    if kind in _TEXT_MODELS:
        if model.get("init_from_run"):
            if model.get("base") == "gpt2rec":
                parts.append(t("mname.warm_start_gpt2rec", lang))
            else:
                parts.append(t("mname.warm_start_fixed" if model.get("freeze_mf") else "mname.warm_start", lang))
        if model.get("use_user_text") is False:
            parts.append(t("mname.no_user_text", lang))
    return parts


def model_display_name(config: Mapping[str, Any], lang: str = "en", backbone: bool = True) -> str:
    """`LLM-enhanced (scheme 1: no attention, cached text) · minilm`, `MF (BPR)`, ...

    `config` is a run config (with a `model` section) or a model section. Text models name
    their backbone unless `backbone` is False.
    """
    model = _model_section(config)
    kind = str(model.get("name", "?"))
    base = t(f"mname.{kind}", lang, default=kind)
    if kind == "mf" and model.get("init_from_run"):  # the equal-budget control of a warm-started model
        base = t("mname.mf_continued", lang)
    parts = model_parts(model, lang)
    if parts:
        head, rest = parts[0], parts[1:]
        is_preset = kind == "enhanced" and preset_matches(model) is not None
        inner = (
            f"{head}{t('mname.colon', lang)}{t('mname.sep', lang).join(rest)}"
            if is_preset and rest
            else t("mname.sep", lang).join(parts)
        )
        base = f"{base}{t('mname.open', lang)}{inner}{t('mname.close', lang)}"
    if backbone and kind in _TEXT_MODELS and model.get("backbone"):
        base = f"{base} · {model.get('backbone')}"
    return base


def model_short_name(config: Mapping[str, Any], lang: str = "en") -> str:
    """A label short enough for a table cell or a legend: `Enhanced S1 · no attn · warm`,
    `GPT2Rec · warm`, `MF continued`. The kind, the preset (starred when changed), attention on
    or off for the Enhanced model, and a warm start; `model_display_name` has everything."""
    model = _model_section(config)
    kind = str(model.get("name", "?"))
    warm = bool(model.get("init_from_run"))
    head = t("mshort.mf_continued" if kind == "mf" and warm else f"mshort.{kind}", lang, default=kind)
    parts: list[str] = []
    if kind == "enhanced":
        matches = preset_matches(model)
        preset = str(model.get("preset") or "")
        if matches is not None:
            head += (
                " "
                + t(f"mshort.preset.{preset}", lang, default=preset)
                + ("" if matches else t("mshort.changed", lang))
            )
        parts.append(t("mshort.attention" if model.get("use_attention", True) else "mshort.no_attention", lang))
        if model.get("base") == "gpt2rec":
            parts.append(t("mshort.over_gpt2rec", lang))
    if kind in _TEXT_MODELS and warm:
        parts.append(t("mshort.warm_fixed" if model.get("freeze_mf") else "mshort.warm", lang))
    return " · ".join([head, *parts])
