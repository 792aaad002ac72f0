"""LoRA adapters (through peft) on the top blocks of a text backbone, and which weights train.

Only the top `k` blocks ever run with gradients (the lower ones are cached), so adapters and
unfrozen weights are limited to those blocks; everything else stays frozen. The blocks and the
modules LoRA adapts are found per architecture by `rec_core.text.layout` (GPT-2 `c_attn`, BERT
`query`/`value`, Llama, Qwen2, Mistral, Phi `q_proj`/`v_proj`, Phi-3 `qkv_proj`, ...).
"""

from __future__ import annotations

from typing import Any

from torch import nn

from rec_core.errors import ConfigError
from rec_core.models.fast_paths import UniformDropout
from rec_core.text import TextEncoder
from rec_core.text.layout import LORA_SUPPORTED, lora_targets

__all__ = [
    "check_dynamic_layers",
    "fast_dropout",
    "freeze_all",
    "inject_lora",
    "lora_target_modules",
    "unfreeze_top_blocks",
    "wire_backbone",
]


def freeze_all(encoder: TextEncoder) -> None:
    for p in encoder.model.parameters():
        p.requires_grad_(False)


def lora_target_modules(encoder: TextEncoder, k: int) -> tuple[list[str], bool]:
    """(full module names LoRA adapts in the top `k` blocks, fan_in_fan_out).

    GPT-2's Conv1D stores its weight transposed, hence fan_in_fan_out for it.
    """
    targets, fan = lora_targets(encoder.split_plan().layout, k)
    if not targets:
        kind = getattr(encoder.model.config, "model_type", "?")
        raise ConfigError(
            "use_peft",
            f"lora mode found no linear layer to adapt in the blocks "
            f"of {encoder.backbone.name} ({kind!r}). "
            f"Supported: {LORA_SUPPORTED}",
        )
    return targets, fan


def inject_lora(encoder: TextEncoder, k: int, rank: int, alpha: int, dropout: float) -> int:
    """Add LoRA adapters to the attention of the top `k` blocks; returns adapter parameter count."""
    from peft import LoraConfig, inject_adapter_in_model

    targets, fan = lora_target_modules(encoder, k)
    config = LoraConfig(
        r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules=targets, fan_in_fan_out=fan, bias="none"
    )
    inject_adapter_in_model(config, encoder.model)
    count = 0
    for name, p in encoder.model.named_parameters():
        is_lora = "lora_" in name
        p.requires_grad_(is_lora)
        count += p.numel() if is_lora else 0
    return count


def unfreeze_top_blocks(encoder: TextEncoder, k: int) -> int:
    """Make every weight of the top `k` blocks trainable; returns their parameter count."""
    layout = encoder.split_plan().layout
    count = 0
    for block in layout.blocks[layout.n_layers - k :]:
        for p in block.parameters():
            p.requires_grad_(True)
            count += p.numel()
    if layout.final is not None:  # a final norm (GPT-2's ln_f) runs after the top block
        for p in layout.final.parameters():
            p.requires_grad_(True)
            count += p.numel()
    return count


def fast_dropout(encoder: TextEncoder) -> int:
    """Swap every `nn.Dropout` of the backbone (its blocks' and LoRA's) for `UniformDropout`:
    the same distribution, drawn from a uniform sample. In dynamic mode the Bernoulli draws of
    the top blocks' dropout were 8% of a step on CPU. Returns how many modules were swapped."""
    count = 0
    for module in encoder.model.modules():
        if type(module) is nn.Dropout:
            module.__class__ = UniformDropout
            count += 1
    return count


def check_dynamic_layers(encoder: TextEncoder, c: Any) -> None:
    """ConfigError unless the backbone has the `dynamic_layers` blocks a trainable config runs."""
    if c.trainable_backbone and c.dynamic_layers > encoder.n_layers:
        raise ConfigError("dynamic_layers", f"{c.backbone} has {encoder.n_layers} blocks; got {c.dynamic_layers}")


def wire_backbone(encoder: TextEncoder, c: Any) -> int:
    """What trains in the backbone of an Enhanced config `c` (EnhancedConfig): LoRA adapters on
    its top `dynamic_layers` blocks (`use_peft`), those blocks' own weights (`freeze_gpt2` off),
    or nothing; with either, its dropout draws from a uniform sample. The trainable count."""
    count = 0
    if c.use_peft:
        count = inject_lora(encoder, c.dynamic_layers, c.lora_rank, c.lora_alpha, c.lora_dropout)
    elif not c.freeze_gpt2:
        count = unfreeze_top_blocks(encoder, c.dynamic_layers)
    if c.trainable_backbone:
        fast_dropout(encoder)
    return count
