"""The Train page's hyperparameter widgets and the config dict they describe.

Widget keys start with `tr_`, so a preset can set the switches it controls before the form
is drawn (one click sets them; they stay visible and editable), and the form's values are
kept for the whole session across pages and model switches (`rec_app.train.form_state`). Widget bounds catch values
that are out of range on their own; `RunConfig` then checks the rules between fields (for
example: heads must divide the embedding size, LoRA needs dynamic encoding).
"""

from __future__ import annotations

import dataclasses

import os
from typing import Any

import streamlit as st

from rec_app.train.form_state import SAVED_KEY, apply_preset, restore, sync
from rec_core.configs import PRESET_TRAIN, PRESETS, SPLIT_PRESETS
from rec_core.configs.model import EnhancedConfig
from rec_app.i18n import t
from rec_app.train.launch import with_app_threads

__all__ = [
    "PRESET_SWITCHES",
    "CLOSED_FORM_GRIDS",
    "init_state",
    "keep",
    "preset_picker",
    "model_fields",
    "warm_start_toggle",
    "common_fields",
    "config_dict",
    "presets",
    "follow_split",
    "hidden_preset_fields",
    "control_toggle",
]

# Enhanced-model switches the form shows, with their defaults when no preset is chosen.
PRESET_SWITCHES = ("use_cache", "use_attention", "freeze_gpt2", "use_peft", "contrastive_weight", "cached_epochs")
_DEFAULTS: dict[str, Any] = {
    "tr_backbone": "minilm",
    "tr_max_length": 64,
    "tr_embed_dim": 64,
    "tr_epochs": 20,
    "tr_lr": 0.001,
    "tr_batch_size": 2048,
    "tr_patience": 10,
    "tr_seeds": "0",
    "tr_label": "",
    "tr_n_heads": 4,
    "tr_lora_rank": 8,
    "tr_dynamic_layers": 2,
    "tr_syn_users": 600,
    "tr_syn_items": 500,
    "tr_preset": "scheme1",
    "tr_warm_start": False,
    "tr_freeze_mf": True,
    "tr_with_control": False,
    "tr_gate_init": 0.1,
    "tr_processes": 1,
}


def named_values(name: str) -> dict[str, Any]:
    """The widget values preset `name` itself names (`tr_<key>`): its model values, a recipe's
    train values (lr, epochs, patience, batch size) and, when it names a warm start, the
    warm-start switch. A form whose values still equal these runs as that preset."""
    model = PRESETS[name]
    values = {**model, **PRESET_TRAIN.get(name, {})}
    if "init_from_run" in model:
        values["warm_start"] = model["init_from_run"] == "auto"
    return values


def presets() -> dict[str, dict[str, Any]]:
    """The widget values picking each Enhanced preset sets: every key any preset names, those
    it does not name at the form's default (else EnhancedConfig's), so that picking scheme 1
    after the warm recipe also turns its warm start, lr and budget back to the defaults instead
    of keeping them silently."""
    named = {name: named_values(name) for name in PRESETS}
    keys = sorted({k for values in named.values() for k in values})
    model_defaults = {f.name: f.default for f in dataclasses.fields(EnhancedConfig)}
    defaults = {k: _DEFAULTS.get(f"tr_{k}", model_defaults.get(k)) for k in keys}
    defaults["warm_start"] = False
    return {name: {**defaults, **values} for name, values in named.items()}


def follow_split(split: str) -> None:
    """When the split changes, start from its measured recipe (`SPLIT_PRESETS`: cold-items ->
    cold, ratio -> warm); a split without one keeps the form as it is."""
    if st.session_state.get("tr_preset_split") == split:
        return
    st.session_state["tr_preset_split"] = split
    preset = SPLIT_PRESETS.get(split)
    if preset:
        st.session_state["tr_preset"] = preset
        saved = dict(st.session_state.get(SAVED_KEY) or {})
        saved["tr_preset"] = preset
        st.session_state[SAVED_KEY] = saved
        apply_preset(st.session_state, preset, presets())


def hidden_preset_fields(model_section: dict[str, Any]) -> dict[str, Any]:
    """Model values of the preset last chosen that the form draws no widget for (base,
    text_to_id, ...): kept when a switch is changed by hand, so a tweaked recipe stays that
    recipe apart from the change."""
    chosen = str(st.session_state.get("tr_preset") or "")
    return {k: v for k, v in PRESETS.get(chosen, {}).items() if k not in model_section}


def _apply_preset() -> None:
    apply_preset(st.session_state, st.session_state.get("tr_preset"), presets())


def init_state() -> None:
    """The form's values for this run: those of the last run, whatever page or model came
    between (see rec_app.train.form_state: each widget's key goes through `_keep`); the defaults and
    the default preset the first time."""
    first = SAVED_KEY not in st.session_state
    saved = sync(st.session_state, _DEFAULTS)
    if first:  # the picker's widget does not exist yet: its default comes from the saved copy
        apply_preset(st.session_state, saved.get("tr_preset"), presets())


def keep(key: str) -> str:
    """`key`, its value put back first if Streamlit dropped it (call where the widget is drawn)."""
    return restore(st.session_state, key)


def _form_value(key: str) -> Any:
    """The value widget `key` holds, or the one the form keeps for it: the picker is drawn before
    the switches, and after another page or model Streamlit has dropped their widget state (they
    get their kept value back only where they are drawn), which is no change by hand."""
    if key in st.session_state:
        return st.session_state[key]
    return (st.session_state.get(SAVED_KEY) or {}).get(key)


def preset_picker(lang: str, split: str = "") -> str:
    """The presets as one-click choices, starting from `split`'s recipe when the split changes
    (`follow_split`); returns the preset the values still match ("" once one was changed by
    hand: the run is then a custom configuration)."""
    follow_split(split)
    st.segmented_control(
        t("train.preset", lang),
        options=list(presets()),
        key=keep("tr_preset"),
        format_func=lambda p: t(f"preset.{p}", lang),
        on_change=_apply_preset,
    )
    chosen = st.session_state.get("tr_preset") or ""
    st.caption(t(f"preset.{chosen}_help", lang) if chosen else t("preset.none_help", lang))
    if chosen and any(_form_value(f"tr_{k}") != v for k, v in named_values(chosen).items()):
        st.caption(t("preset.modified", lang, preset=t(f"preset.{chosen}", lang)))
        return ""
    return chosen


# Closed-form models: their `<name>_grid` config fields, drawn as comma-separated text inputs.
CLOSED_FORM_GRIDS: dict[str, tuple[str, ...]] = {"ease": ("l2_grid",), "itemknn": ("k_grid", "shrink_grid")}


def _closed_form_fields(model: str, lang: str) -> dict[str, Any]:
    """A one-line description and the candidate lists; RunConfig parses and checks them."""
    from rec_core.models.registry import model_config_class  # torch: loaded once the page waited for it

    st.caption(t(f"train.{model}_note", lang))
    defaults = model_config_class(model)()
    fields: dict[str, Any] = {"name": model}
    for col, name in zip(st.columns(3), CLOSED_FORM_GRIDS[model]):
        key = keep(f"tr_{name}")
        st.session_state.setdefault(key, ", ".join(f"{v:g}" for v in getattr(defaults, name)))
        fields[name] = col.text_input(t(f"field.{name}", lang), key=key, help=t("field.grid_help", lang))
    return fields


def _backbone_options(backbones: list[dict[str, object]]) -> list[str]:
    return [str(b["name"]) for b in backbones if b.get("available")]


def warm_start_toggle(model: str, lang: str) -> bool:
    """For a text model: the warm-start switch, drawn above the form so that the switches that
    depend on it (keep the MF part fixed) follow it at once; False for other models."""
    if model not in ("gpt2rec", "enhanced"):
        return False
    return bool(
        st.toggle(t("field.warm_start", lang), key=keep("tr_warm_start"), help=t("field.warm_start_help", lang))
    )


def _text_fields(
    fields: dict[str, Any], backbones: list[dict[str, object]], lang: str, warm: bool, c2: Any, c3: Any
) -> None:
    """The text models' widgets: backbone and text length (in `c2`, `c3`, the columns beside the
    embedding size), the warm start's fixed MF part and the gate."""
    options = _backbone_options(backbones)
    if st.session_state.get(keep("tr_backbone")) not in options:
        st.session_state["tr_backbone"] = options[0] if options else "tiny-gpt2"
    fields["backbone"] = c2.selectbox(
        t("field.backbone", lang),
        options,
        key=keep("tr_backbone"),
        format_func=lambda b: t(f"backbone.{b}", lang, default=b),
    )
    fields["max_length"] = c3.number_input(
        t("field.max_length", lang),
        8,
        512,
        step=8,
        key=keep("tr_max_length"),
        help=t("field.max_length_help", lang),
    )
    w3, w2 = st.columns([2, 1])
    # "auto": each seed starts from the finished MF run of its own dataset, split and seed.
    fields["init_from_run"] = "auto" if warm else ""
    # Only a warm start has an MF part to keep fixed (the config refuses it otherwise): without
    # one the switch shows off and cannot be used; its own value comes back with the warm start.
    if warm:
        fields["freeze_mf"] = w3.toggle(
            t("field.freeze_mf", lang), key=keep("tr_freeze_mf"), help=t("field.freeze_mf_help", lang)
        )
    else:
        w3.toggle(t("field.freeze_mf", lang), value=False, disabled=True, help=t("field.freeze_mf_needs_warm", lang))
        fields["freeze_mf"] = False
    fields["gate_init"] = w2.number_input(
        t("field.gate_init", lang),
        0.0,
        10.0,
        step=0.05,
        format="%.2f",
        key=keep("tr_gate_init"),
        help=t("field.gate_init_help", lang),
    )


def _enhanced_fields(fields: dict[str, Any], lang: str) -> None:
    """The Enhanced model's switches and sizes."""
    st.markdown(f"**{t('train.switches', lang)}**")
    s1, s2, s3, s4 = st.columns(4)
    fields["use_cache"] = s1.toggle(
        t("field.use_cache", lang), key=keep("tr_use_cache"), help=t("field.use_cache_help", lang)
    )
    fields["use_attention"] = s2.toggle(
        t("field.use_attention", lang), key=keep("tr_use_attention"), help=t("field.use_attention_help", lang)
    )
    fields["freeze_gpt2"] = s3.toggle(
        t("field.freeze_gpt2", lang), key=keep("tr_freeze_gpt2"), help=t("field.freeze_gpt2_help", lang)
    )
    fields["use_peft"] = s4.toggle(
        t("field.use_peft", lang), key=keep("tr_use_peft"), help=t("field.use_peft_help", lang)
    )
    n1, n2, n3, n4, n5 = st.columns(5)
    fields["contrastive_weight"] = n1.number_input(
        t("field.contrastive_weight", lang), 0.0, 10.0, step=0.05, format="%.2f", key=keep("tr_contrastive_weight")
    )
    fields["n_heads"] = n2.number_input(
        t("field.n_heads", lang), 1, 16, key=keep("tr_n_heads"), help=t("field.n_heads_help", lang)
    )
    fields["lora_rank"] = n3.number_input(t("field.lora_rank", lang), 1, 256, key=keep("tr_lora_rank"))
    fields["dynamic_layers"] = n4.number_input(
        t("field.dynamic_layers", lang), 1, 48, key=keep("tr_dynamic_layers"), help=t("field.dynamic_layers_help", lang)
    )
    fields["cached_epochs"] = n5.number_input(
        t("field.cached_epochs", lang), -1, 1000, key=keep("tr_cached_epochs"), help=t("field.cached_epochs_help", lang)
    )


def model_fields(model: str, backbones: list[dict[str, object]], lang: str, warm: bool = False) -> dict[str, Any]:
    """Widgets of the model's own settings (inside the form); returns the model section.
    `warm`: the warm-start switch's value (`warm_start_toggle`)."""
    fields: dict[str, Any] = {"name": model}
    if model == "pop":
        st.caption(t("train.pop_note", lang))
        return fields
    if model in CLOSED_FORM_GRIDS:
        return _closed_form_fields(model, lang)
    c1, c2, c3 = st.columns(3)
    fields["embed_dim"] = c1.number_input(t("field.embed_dim", lang), 4, 1024, step=8, key=keep("tr_embed_dim"))
    if model in ("gpt2rec", "enhanced"):
        _text_fields(fields, backbones, lang, warm, c2, c3)
    if model == "enhanced":
        _enhanced_fields(fields, lang)
    return fields


def control_toggle(model: str, lang: str, warm: bool) -> bool:
    """For a warm-started text model (inside the form; `warm`: `warm_start_toggle`'s value): also
    queue the equal-budget control, MF continued from the same MF run with the same training
    (rec_app.train.launch.control_configs). Not drawn without a warm start (nothing to control for)."""
    if model not in ("gpt2rec", "enhanced") or not warm:
        return False
    return bool(
        st.checkbox(t("field.with_control", lang), key=keep("tr_with_control"), help=t("field.with_control_help", lang))
    )


def common_fields(dataset: str, lang: str) -> dict[str, Any]:
    """Training widgets every model shares (inside the form)."""
    c1, c2, c3, c4 = st.columns(4)
    out: dict[str, Any] = {
        "epochs": c1.number_input(t("field.epochs", lang), 1, 1000, key=keep("tr_epochs")),
        "lr": c2.number_input(t("field.lr", lang), 1e-5, 1.0, step=1e-4, format="%.5f", key=keep("tr_lr")),
        "batch_size": c3.number_input(t("field.batch_size", lang), 16, 65536, step=256, key=keep("tr_batch_size")),
        "patience": c4.number_input(
            t("field.patience", lang), 0, 1000, key=keep("tr_patience"), help=t("field.patience_help", lang)
        ),
    }
    d1, d2, d3 = st.columns([2, 1, 3])
    out["seeds"] = d1.text_input(t("field.seeds", lang), key=keep("tr_seeds"), help=t("field.seeds_help", lang))
    # Not part of the run's config: how it is executed (torchrun); results.json records it.
    out["processes"] = d2.number_input(
        t("field.processes", lang),
        1,
        os.cpu_count() or 1,
        key=keep("tr_processes"),
        help=t("field.processes_help", lang),
    )
    out["label"] = d3.text_input(t("field.label", lang), key=keep("tr_label"), help=t("field.label_help", lang))
    if dataset == "synthetic":
        e1, e2 = st.columns(2)
        out["synthetic_users"] = e1.number_input(
            t("field.syn_users", lang), 10, 100_000, step=50, key=keep("tr_syn_users")
        )
        out["synthetic_items"] = e2.number_input(
            t("field.syn_items", lang), 10, 100_000, step=50, key=keep("tr_syn_items")
        )
    return out


def config_dict(
    dataset: str,
    split: str,
    model_section: dict[str, Any],
    common: dict[str, Any],
    preset: str,
    csv_data: dict[str, Any] | None,
    hidden: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A RunConfig dict (without the seed) from the widget values; `hidden`: the chosen
    preset's values that have no widget (`hidden_preset_fields`), under the widgets' values."""
    if dataset == "csv":
        data = dict(csv_data or {})
    elif dataset == "synthetic":
        users, items = int(common["synthetic_users"]), int(common["synthetic_items"])
        # The generator needs room to sample: cap the mean interactions at half the catalogue.
        data = {
            "name": "synthetic",
            "synthetic_users": users,
            "synthetic_items": items,
            "synthetic_interactions_per_user": max(3, min(40, items // 2)),
        }
    else:
        data = {"name": dataset}
    model = dict(model_section)
    if model.get("name") == "enhanced":
        model = {**(hidden or {}), **model, "preset": preset}
    train = {k: common[k] for k in ("epochs", "lr", "batch_size", "patience")}
    config = {
        "data": data,
        "split": {"kind": split},
        "model": model,
        "train": train,
        "label": str(common.get("label") or "").strip(),
    }
    return with_app_threads(config, processes=int(common.get("processes") or 1))
