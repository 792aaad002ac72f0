"""Errors worded for the page: the on-screen label of the field first, the config field (what a
CLI user types) in parentheses, e.g. "LoRA adapters (use_peft): ...".

`rec_core` names config fields in its errors (`ConfigError.field`, `DataError.field`), which
is right for the command line and the config files; the app's users know the labels.
"""

from __future__ import annotations

from rec_app.i18n import t

__all__ = ["FIELD_LABELS", "field_label", "labelled_message"]

# Config field -> i18n key of the widget that sets it on the Train page.
FIELD_LABELS: dict[str, str] = {
    **{
        name: f"field.{name}"
        for name in (
            "embed_dim",
            "backbone",
            "max_length",
            "freeze_mf",
            "gate_init",
            "epochs",
            "lr",
            "batch_size",
            "patience",
            "seeds",
            "seed",
            "label",
            "use_cache",
            "use_attention",
            "freeze_gpt2",
            "use_peft",
            "contrastive_weight",
            "n_heads",
            "lora_rank",
            "dynamic_layers",
            "cached_epochs",
            "l2_grid",
            "k_grid",
            "shrink_grid",
            "processes",
        )
    },
    "init_from_run": "field.warm_start",
    "synthetic_users": "field.syn_users",
    "synthetic_items": "field.syn_items",
    "split": "field.split",
    "kind": "field.split",
    "model": "field.model",
    "preset": "train.preset",
    **{
        f"csv_{name}": f"csv.{name}"
        for name in (
            "user_col",
            "item_col",
            "rating_col",
            "time_col",
            "item_id_col",
            "user_id_col",
            "item_template",
            "user_template",
            "sep",
            "interactions",
            "items",
            "users",
        )
    },
}


def field_label(field: str, lang: str) -> str | None:
    """The on-screen label of config field `field` ("model.use_peft" or "use_peft"); None if
    no widget of the app sets it."""
    name = field.strip().rsplit(".", 1)[-1]
    key = FIELD_LABELS.get(name)
    return t(key, lang) if key else None


def labelled_message(field: str, message: str, lang: str) -> str:
    """`message` ("use_peft: needs ...", as rec_core words it) led by the labels of `field`
    (one field, or several separated by commas): "LoRA adapters (use_peft): needs ..."."""
    parts = [p.strip() for p in field.split(",") if p.strip()]
    labels = [field_label(p, lang) for p in parts]
    if not parts or not any(labels):
        return message
    rest = message[len(field) + 2 :] if message.startswith(f"{field}: ") else message
    head = ", ".join(label or part for label, part in zip(labels, parts))
    return f"{head} ({', '.join(parts)}): {rest}"
