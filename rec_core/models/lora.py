"""LoRA adapters (through peft) on the top blocks of a text backbone, and which weights train.

Only the top `k` blocks ever run with gradients (the lower ones are cached), so adapters and
unfrozen weights are limited to those blocks; everything else stays frozen.
"""
from __future__ import annotations

from torch import nn

from rec_core.text import TextEncoder

__all__ = ["inject_lora", "unfreeze_top_blocks", "freeze_all"]


def _layout(encoder: TextEncoder) -> tuple[str, list[str], bool]:
    """(layers_pattern, target_modules, fan_in_fan_out) of the backbone's architecture."""
    model_type = getattr(encoder.model.config, "model_type", "")
    if model_type == "gpt2":
        # GPT-2 uses Conv1D (weights stored transposed), hence fan_in_fan_out.
        return "h", ["c_attn"], True
    return "layer", ["query", "value"], False


def freeze_all(encoder: TextEncoder) -> None:
    for p in encoder.model.parameters():
        p.requires_grad_(False)


def inject_lora(encoder: TextEncoder, k: int, rank: int, alpha: int, dropout: float) -> int:
    """Add LoRA adapters to the attention of the top `k` blocks; returns adapter parameter count."""
    from peft import LoraConfig, inject_adapter_in_model

    pattern, targets, fan = _layout(encoder)
    n = encoder.n_layers
    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules=targets,
                        fan_in_fan_out=fan, layers_to_transform=list(range(n - k, n)),
                        layers_pattern=pattern, bias="none")
    inject_adapter_in_model(config, encoder.model)
    count = 0
    for name, p in encoder.model.named_parameters():
        is_lora = "lora_" in name
        p.requires_grad_(is_lora)
        count += p.numel() if is_lora else 0
    return count


def unfreeze_top_blocks(encoder: TextEncoder, k: int) -> int:
    """Make every weight of the top `k` blocks trainable; returns their parameter count."""
    blocks: nn.ModuleList = encoder._layout()[0]
    count = 0
    for block in blocks[encoder.n_layers - k:]:
        for p in block.parameters():
            p.requires_grad_(True)
            count += p.numel()
    final = encoder._layout()[1]
    if final is not None:  # GPT-2's ln_f runs after the top block: it is part of the top
        for p in final.parameters():
            p.requires_grad_(True)
            count += p.numel()
    return count
