"""Split execution of a backbone's top blocks (dynamic mode): the `SplitPlan` a `TextEncoder`
chooses once per backbone and the functions that run it.

"Split" calls the blocks directly with the masks, position ids and rotary embeddings the
model's own forward would give them; "fallback" runs the full forward with the cached hidden
state swapped in at the block's input. `choose_plan` takes the first that reproduces the
model's own output on a few texts (`verify_plan`); `run_plan` runs the blocks from a cached
state. `TextEncoder.split_plan` / `forward_states` are the public entry points.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import torch
import transformers
from torch import Tensor, nn

from rec_core.text.layout import DYNAMIC_SUPPORTED, BlockLayout, find_layout

if TYPE_CHECKING:
    from rec_core.text.encoder import TextEncoder

# transformers 5 builds block attention masks with masking_utils (4.x had other signatures);
# `forward_states` calls the same functions so split runs see exactly the model's own masks.
_TRANSFORMERS_5 = int(transformers.__version__.split(".")[0]) >= 5
if _TRANSFORMERS_5:
    from transformers.masking_utils import (
        create_bidirectional_mask,
        create_causal_mask,
        create_sliding_window_causal_mask,
    )

__all__ = ["SplitPlan", "choose_plan", "run_plan", "verify_plan"]

# Texts the split plan is checked on: different lengths, so padding is checked too.
_CHECK_TEXTS = ("Toy Story (1995). Genres: Animation, Children's, Comedy.", "Heat (1995).", "a")


@dataclass(frozen=True, eq=False)
class SplitPlan:
    """How dynamic mode runs a backbone's top blocks (chosen by `TextEncoder.split_plan`)."""

    layout: BlockLayout  # the block list and the final norm after it
    strategy: Literal["split", "fallback"]  # direct block calls, or the full-forward fallback
    causal: bool  # causal (+ padding) masks, else bidirectional (padding only)
    position_ids: bool  # pass position ids to each block
    rotary: nn.Module | None  # the model's rotary_emb: position embeddings for each block
    layer_types: tuple[str, ...]  # per block: "full_attention" or "sliding_attention"


def choose_plan(encoder: TextEncoder) -> SplitPlan | str:
    """The split plan for `encoder`'s backbone, or why it has none (see `TextEncoder.split_plan`)."""
    get_base = getattr(encoder.model, "get_base_model", None)  # a peft wrapper's
    base = get_base() if callable(get_base) else encoder.model
    config = base.config
    kind = getattr(config, "model_type", type(base).__name__)
    layout = find_layout(base)
    if layout is None or layout.n_layers != encoder.n_layers:
        return (
            f"{encoder.backbone.name}: dynamic mode cannot run {kind!r}: no list of "
            f"{encoder.n_layers} transformer blocks found. Supported: {DYNAMIC_SUPPORTED}"
        )
    causal = encoder.backbone.kind == "causal"
    params = inspect.signature(layout.blocks[0].forward).parameters
    var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    # GPT-2 5.x blocks take position ids through **kwargs (flash attention uses them).
    positions = "position_ids" in params or (causal and var_kw and _TRANSFORMERS_5)
    rotary = getattr(base, "rotary_emb", None) if "position_embeddings" in params else None
    types = getattr(config, "layer_types", None)
    if isinstance(types, (list, tuple)) and len(types) == layout.n_layers:
        layer_types = tuple(str(t) for t in types)
    elif (
        causal and getattr(config, "sliding_window", None) and getattr(config, "use_sliding_window", True) is not False
    ):
        layer_types = ("sliding_attention",) * layout.n_layers  # Mistral, Phi-3 style
    else:
        layer_types = ("full_attention",) * layout.n_layers
    problems: list[str] = []
    for strategy in ("split", "fallback"):
        plan = SplitPlan(layout, strategy, causal, positions, rotary, layer_types)
        problem = encoder._verify_plan(plan)
        if problem is None:
            return plan
        problems.append(f"{strategy}: {problem}")
    return (
        f"{encoder.backbone.name}: dynamic mode cannot run {kind!r} blocks "
        f"({'; '.join(problems)}). Supported: {DYNAMIC_SUPPORTED}"
    )


def verify_plan(encoder: TextEncoder, plan: SplitPlan) -> str | None:
    """None if `plan` reproduces the full forward (from block 0 and from the top block)."""
    rows = encoder._token_ids(_CHECK_TEXTS, details=False)["input_ids"]
    ids, mask = encoder._pad(rows, max(len(r) for r in rows))
    blocks, n = plan.layout.blocks, plan.layout.n_layers
    captured: dict[int, Tensor] = {}

    def keeper(i: int) -> Any:
        def keep(_m: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            captured.setdefault(i, args[0] if args else kwargs["hidden_states"])

        return keep

    hooks = [blocks[i].register_forward_pre_hook(keeper(i), with_kwargs=True) for i in {0, n - 1}]
    modes = [(module, module.training) for module in encoder.modules()]
    encoder.eval()
    try:
        with torch.no_grad():
            full = encoder._forward_states(ids, mask)  # the check compares fp32 paths
            for hook in hooks:
                hook.remove()
            hooks = []
            real = mask.bool().to(full.device)
            scale = max(1.0, float(full[real].abs().max()))
            for start in sorted({0, n - 1}):
                got = run_plan(encoder, plan, captured[start], mask.to(full.device), start)
                if got.shape != full.shape:
                    return f"shape {tuple(got.shape)} != {tuple(full.shape)}"
                err = float((got[real] - full[real]).abs().max())
                if not err <= 1e-4 * scale:  # also catches NaN
                    return f"differs from the full forward by {err:.3g} from block {start}"
    except Exception as exc:  # noqa: BLE001 - any failure means: try the next strategy
        return f"{type(exc).__name__}: {exc}"
    finally:
        for hook in hooks:
            hook.remove()
        for module, training in modes:
            module.training = training
    return None


def _block_masks(
    encoder: TextEncoder, plan: SplitPlan, hidden: Tensor, attention_mask: Tensor, position_ids: Tensor, from_layer: int
) -> dict[str, Any]:
    """The attention mask per layer type that the model's own forward gives its blocks."""
    get_base = getattr(encoder.model, "get_base_model", None)  # a peft wrapper's
    base = get_base() if callable(get_base) else encoder.model
    if _TRANSFORMERS_5:
        if not plan.causal:
            return {
                t: create_bidirectional_mask(config=base.config, inputs_embeds=hidden, attention_mask=attention_mask)
                for t in set(plan.layer_types)
            }
        masks: dict[str, Any] = {}
        for t in set(plan.layer_types[from_layer:]):
            make = create_sliding_window_causal_mask if t == "sliding_attention" else create_causal_mask
            masks[t] = make(
                config=base.config,
                inputs_embeds=hidden,
                attention_mask=attention_mask,
                cache=None,
                position_ids=position_ids,
            )
        return masks
    # transformers 4.x (untested here): an additive (B, 1, T, T) mask suits eager and sdpa.
    n_tok = hidden.shape[1]
    allowed = attention_mask[:, None, None, :].bool()
    if plan.causal:
        allowed = allowed & torch.ones(n_tok, n_tok, dtype=torch.bool, device=hidden.device).tril()
    full = torch.zeros(allowed.shape, dtype=hidden.dtype, device=hidden.device)
    mask = full.masked_fill(~allowed, torch.finfo(hidden.dtype).min)
    return {t: mask for t in set(plan.layer_types)}


def run_plan(encoder: TextEncoder, plan: SplitPlan, hidden: Tensor, attention_mask: Tensor, from_layer: int) -> Tensor:
    """Last hidden states from `hidden`, the input of block `from_layer`, by `plan`."""
    layout = plan.layout
    if from_layer >= layout.n_layers:
        return hidden if layout.final is None else layout.final(hidden)
    if plan.strategy == "fallback":

        def swap(
            _m: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> tuple[tuple[Any, ...], dict[str, Any]]:
            if args:
                return (hidden, *args[1:]), kwargs
            return args, {**kwargs, "hidden_states": hidden}

        # The full forward on padding ids; the cached state replaces block from_layer's
        # input, so the lower blocks' (gradient-free) output is discarded.
        ids = torch.full(hidden.shape[:2], int(encoder.tokenizer.pad_token_id), dtype=torch.long, device=hidden.device)
        handle = layout.blocks[from_layer].register_forward_pre_hook(swap, with_kwargs=True)
        try:
            return encoder.model(input_ids=ids, attention_mask=attention_mask).last_hidden_state
        finally:
            handle.remove()
    positions = torch.arange(hidden.shape[1], device=hidden.device).unsqueeze(0)  # (1, T)
    masks = _block_masks(encoder, plan, hidden, attention_mask, positions, from_layer)
    extra: dict[str, Any] = {"position_ids": positions} if plan.position_ids else {}
    if plan.rotary is not None:
        extra["position_embeddings"] = plan.rotary(hidden, positions)
    for i in range(from_layer, layout.n_layers):
        out = layout.blocks[i](hidden, attention_mask=masks[plan.layer_types[i]], **extra)
        hidden = out[0] if isinstance(out, tuple) else out  # transformers < 5: a tuple
    return hidden if layout.final is None else layout.final(hidden)
