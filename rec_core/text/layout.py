"""Where a backbone's transformer blocks are, how dynamic mode runs them, and what LoRA targets.

Dynamic mode (schemes 2 and 3 of the Enhanced model) caches the hidden states entering block
`n_layers - k` and re-runs only the top `k` blocks with gradients. That needs the model's block
list, found generically: the shallowest `nn.ModuleList` with `num_hidden_layers` entries
(`h` in GPT-2, `layers` in Llama, Qwen2, Mistral, Phi, Gemma, ..., `encoder.layer` in BERT).

Two ways to run the top blocks, chosen automatically per loaded model (`TextEncoder` checks the
chosen one numerically against the model's own forward before first use):

- "split": call the top blocks directly with what the model's forward would give them: the
  attention mask (causal + padding, sliding window per layer type, or bidirectional), position
  ids, and rotary position embeddings from the model's `rotary_emb`. Cost: k blocks.
- "fallback": the model's full forward, with the cached hidden state swapped in at the input of
  block `n_layers - k` (lower blocks run on padding, without gradients, and are discarded).
  Works for any architecture with a block list; costs a full forward.

An architecture without a recognisable block list cannot run dynamic mode; `check_backbone_mode`
refuses it at config time (before a run folder exists), naming the mode and what is supported.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from rec_core.errors import ConfigError

__all__ = [
    "BlockLayout",
    "DYNAMIC_SUPPORTED",
    "LORA_SUPPORTED",
    "check_backbone_mode",
    "find_layout",
    "lora_targets",
]

log = logging.getLogger(__name__)

# What the messages (and the README) promise; the code itself is generic.
DYNAMIC_SUPPORTED = (
    "split execution of the top blocks for GPT-2, BERT-style encoders (BERT, RoBERTa, MiniLM) "
    "and decoder-only LMs with a `layers`/`h` block list, rotary positions included (Llama, "
    "Mistral, Qwen2, Qwen3, Phi, Phi-3, Gemma, Gemma 2, OLMo, StableLM, SmolLM3, Granite, "
    "GPT-NeoX, GPT-J, OPT, ...); a full-forward fallback (BLOOM, Falcon, ...) for any other "
    "model whose blocks form one list of num_hidden_layers modules"
)
LORA_SUPPORTED = (
    "LoRA adapters on the attention projections of the top blocks: q_proj/v_proj (Llama, Qwen2, "
    "Mistral, Phi, Gemma, ...), query/value (BERT), c_attn (GPT-2), qkv_proj (Phi-3), Wqkv, "
    "query_key_value (GPT-NeoX, Falcon, BLOOM); otherwise every linear layer of the block's "
    "attention, or of the whole block"
)
# Preferred LoRA targets, first complete match wins (leaf module names inside one block).
_LORA_GROUPS: tuple[tuple[str, ...], ...] = (
    ("q_proj", "v_proj"),
    ("query", "value"),
    ("c_attn",),
    ("qkv_proj",),
    ("Wqkv",),
    ("query_key_value",),
    ("qkv",),
    ("q", "v"),
)
_FINAL_NORM_HINTS = ("norm", "ln_f")


@dataclass(frozen=True, eq=False)
class BlockLayout:
    """The block list of a base model and the final norm that follows it (if any)."""

    path: str  # dotted name of the block list inside the base model: "h", "layers", "encoder.layer"
    blocks: nn.ModuleList
    final_path: str | None  # dotted name of the final norm run after the blocks, if found
    final: nn.Module | None

    @property
    def n_layers(self) -> int:
        return len(self.blocks)


def _n_layers(model: nn.Module) -> int | None:
    config = getattr(model, "config", None)
    value = getattr(config, "num_hidden_layers", None)
    return int(value) if isinstance(value, int) else None


def find_layout(model: nn.Module) -> BlockLayout | None:
    """The block list of `model` (a transformers base model, or a peft wrapper of one), or None.

    Generic: the shallowest `nn.ModuleList` whose length is `config.num_hidden_layers` and whose
    entries share one class. The final norm is a direct sibling of that list whose class or
    attribute name says norm (GPT-2's `ln_f`, Llama's `norm`, Phi's `final_layernorm`).
    """
    get_base = getattr(model, "get_base_model", None)  # a peft wrapper's
    base = get_base() if callable(get_base) else model
    n = _n_layers(base)
    if not n:
        return None
    found: tuple[str, nn.ModuleList] | None = None
    for name, module in base.named_modules():
        if isinstance(module, nn.ModuleList) and len(module) == n and len({type(m) for m in module}) == 1:
            if found is None or name.count(".") < found[0].count("."):
                found = (name, module)
    if found is None:
        return None
    path, blocks = found
    parent_path, _, attr = path.rpartition(".")
    parent = base.get_submodule(parent_path) if parent_path else base
    final_path: str | None = None
    final: nn.Module | None = None
    for child_name, child in parent.named_children():
        if child_name == attr:
            continue
        label = f"{child_name} {type(child).__name__}".lower()
        if any(h in label for h in _FINAL_NORM_HINTS) and "embed" not in label:
            final_path = f"{parent_path}.{child_name}" if parent_path else child_name
            final = child
    return BlockLayout(path=path, blocks=blocks, final_path=final_path, final=final)


def _linear_leaves(block: nn.Module) -> list[tuple[str, bool]]:
    """(relative name, is GPT-2 Conv1D) of the linear layers inside `block`."""
    rows: list[tuple[str, bool]] = []
    for name, module in block.named_modules():
        if not name or "lora_" in name:
            continue
        conv1d = type(module).__name__ == "Conv1D"
        if isinstance(module, nn.Linear) or conv1d:
            rows.append((name, conv1d))
    return rows


def lora_targets(layout: BlockLayout, k: int) -> tuple[list[str], bool]:
    """(full module names for peft's `target_modules`, fan_in_fan_out) in the top `k` blocks.

    Picks, per architecture, the attention projections LoRA is usually put on (see
    `_LORA_GROUPS`); failing those, every linear layer of the block's attention, failing that
    every linear layer of the block. Empty when the block has no linear layer at all.
    """
    leaves = _linear_leaves(layout.blocks[-1])
    leaf_names = {name.rsplit(".", 1)[-1] for name, _ in leaves}
    chosen: list[tuple[str, bool]] = []
    for group in _LORA_GROUPS:
        if all(g in leaf_names for g in group):
            chosen = [(name, conv) for name, conv in leaves if name.rsplit(".", 1)[-1] in group]
            break
    if not chosen:
        chosen = [
            (name, conv) for name, conv in leaves if any(w in name.lower() for w in ("attn", "attention"))
        ] or leaves
    n = layout.n_layers
    names = [f"{layout.path}.{i}.{rel}" for i in range(n - k, n) for rel, _ in chosen]
    return names, any(conv for _, conv in chosen)


# ---- config-time validation ---------------------------------------------------------------

_BUILT_IN = ("minilm", "tiny-gpt2")  # both verified by the test suite in every mode
_CHECKED: dict[tuple[str, str, str], str | None] = {}  # (dir, config.json stamp, mode) -> error


def _config_dir(name: str) -> Path | None:
    """The directory holding `name`'s config.json (a local dir or the HF cache), else None."""
    local = Path(name).expanduser()
    if local.is_dir():
        return local
    from rec_core.text.backbones import _find_in_cache

    try:
        return _find_in_cache(name)
    except Exception:  # noqa: BLE001 - an unresolvable name is reported when it is loaded
        return None


def _skeleton(config: object) -> nn.Module | None:
    """The base model of `config` built on the meta device (no weights, no memory)."""
    import torch
    from transformers import AutoModel

    try:
        with torch.device("meta"):
            return AutoModel.from_config(config)
    except Exception as err:  # noqa: BLE001 - unloadable configs fail clearly when loaded
        log.debug("cannot build a skeleton of %s: %s", type(config).__name__, err)
        return None


_MODE_LABELS = {
    "cached": "cached mode (frozen text features)",
    "dynamic": "dynamic mode (use_cache=false, top blocks unfrozen)",
    "lora": "dynamic LoRA mode (use_peft with use_cache=false: schemes 2 and 3)",
}


def _mode_problem(directory: Path, mode: str, k: int) -> str | None:
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(directory, local_files_only=True)
    except Exception:  # noqa: BLE001 - unreadable configs fail clearly when loaded
        return None
    kind = getattr(config, "model_type", "?")
    label = _MODE_LABELS[mode]
    if getattr(config, "is_encoder_decoder", False):
        return (
            f"{label} cannot use {kind!r}: it is an encoder-decoder model. Supported: "
            "encoder-only and decoder-only (causal LM) backbones"
        )
    if mode == "cached":
        return None
    model = _skeleton(config)
    if model is None:
        return None
    layout = find_layout(model)
    if layout is None:
        return (
            f"{label} cannot run {kind!r}: its transformer blocks are not one list of "
            f"num_hidden_layers modules. Supported: {DYNAMIC_SUPPORTED}"
        )
    if mode == "lora" and not lora_targets(layout, min(k, layout.n_layers))[0]:
        return f"{label} cannot run {kind!r}: no linear layer to adapt in its blocks. Supported: {LORA_SUPPORTED}"
    return None


def check_backbone_mode(name: str, mode: str, k: int = 1) -> None:
    """Refuse (ConfigError on "backbone") a backbone that cannot run `mode`, before any run.

    `mode` is "cached" (frozen features), "dynamic" (top `k` blocks re-run with gradients) or
    "lora" (dynamic with LoRA adapters). Reads only config.json (the model is built on the
    meta device, without weights), so it is fast; the result is memoised per config. A name
    that cannot be resolved or read here passes: loading it fails with its own clear message.
    """
    if mode not in ("cached", "dynamic", "lora"):
        raise ValueError(f"unknown mode {mode!r}")
    if name in _BUILT_IN:
        return
    directory = _config_dir(name)
    if directory is None or not (directory / "config.json").is_file():
        return
    config_file = directory / "config.json"
    try:
        stamp = json.dumps(json.loads(config_file.read_text()), sort_keys=True)
    except (OSError, ValueError):
        return
    memo = (str(directory.resolve()), stamp, f"{mode}:{k}")
    if memo not in _CHECKED:
        _CHECKED[memo] = _mode_problem(directory, mode, k)
    problem = _CHECKED[memo]
    if problem is not None:
        raise ConfigError("backbone", f"{name}: {problem}")
