"""`TextEncoder`: a backbone, its tokenizer and a pooling, with batched encoding and split runs.

Two ways to use it:

- frozen features: `encode(texts)` runs the whole backbone once, without gradients, and returns
  `EncodedTexts` (pooled vectors, token states, masks) in input order; `FeatureCache` stores them.
- dynamic (end-to-end) encoding: `forward(input_ids, attention_mask)` or `forward_states` with
  gradients. "Split" execution caches the hidden states entering layer `n_layers - k`
  (`encode(texts, keep_layer_input=k)`) and `run_top_layers` recomputes only the top k blocks
  with gradients: fine-tuning the top of the backbone then costs k layers, not all of them.
  Any architecture with a block list works (GPT-2, BERT, Llama, Qwen2, Mistral, Phi, ...):
  `split_plan()` calls the blocks directly with the masks, position ids and rotary embeddings
  the model's own forward would give them, or falls back to a full forward with the cached
  state swapped in, whichever reproduces the model's own output (checked on first use).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn

from rec_core.configs.text import PRECISIONS as PRECISIONS
from rec_core.configs.text import Pooling as Pooling
from rec_core.configs.text import TextEncoderConfig
from rec_core.configs.text import check_precision as check_precision
from rec_core.data.interactions import TextTable
from rec_core.errors import ConfigError
from rec_core.text.backbones import (
    Backbone,
    load_backbone,
    stamp_at_load,
    state_dict_sha256,
    weights_stamp,
)
from rec_core.text.split_run import SplitPlan, choose_plan, run_plan, verify_plan
from rec_core.text.tokens import readable_tokens, token_labels

__all__ = [
    "EncodeProgress",
    "EncodedTexts",
    "SplitPlan",
    "TextEncoder",
    "TextEncoderConfig",
    "TokenBatch",
    "encoding_progress",
]

# `progress(done, total)`: texts encoded so far out of all of them; called with 0 before the
# first batch, then after every batch, the last call with done == total.
EncodeProgress = Callable[[int, int], None]
_PROGRESS: contextvars.ContextVar[EncodeProgress | None] = contextvars.ContextVar(
    "rec_core_encode_progress", default=None
)


@contextlib.contextmanager
def encoding_progress(progress: EncodeProgress | None) -> Iterator[None]:
    """Within the block, every `TextEncoder.encode` called without its own `progress` reports
    to `progress`: a run reports the encoding its model does while it is built, without the
    model passing a callback down (models encode their tables in their constructors)."""
    token = _PROGRESS.set(progress)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


@dataclass(frozen=True, eq=False)
class TokenBatch:
    """Tokenized texts, right padded."""

    input_ids: Tensor  # (B, T) int64, padding = the tokenizer's pad id (eos for GPT-2)
    attention_mask: Tensor  # (B, T) int64, 1 on real tokens
    offsets: Tensor  # (B, T, 2) int64 character range [start, end) of each token in its text
    special: Tensor  # (B, T) bool, tokens the tokenizer added ([CLS], [SEP], ...)
    tokens: tuple[tuple[str, ...], ...]  # readable strings of each text's real tokens (or ())


@dataclass(frozen=True, eq=False)
class EncodedTexts:
    """Frozen features of N texts, in input order, on the CPU, always float32.

    T is the encoder's `max_length`: row k holds its `lengths[k]` real tokens first, then
    zeros. `FeatureCache` may store `states` and `layer_states` as float16 on disk (half the
    size); they are float32 again once loaded.
    """

    pooled: Tensor  # (N, H) float32, one vector per text
    mask: Tensor  # (N, T) bool, True on real tokens
    input_ids: Tensor  # (N, T) int64, right padded with the pad id
    states: Tensor | None  # (N, T, H) float32 last hidden states; None if not kept
    layer_states: Tensor | None = None  # (N, T, H) float32 input of layer n_layers - top_layers
    top_layers: int | None = None  # k given to encode(keep_layer_input=k)

    def __len__(self) -> int:
        return int(self.pooled.shape[0])

    @property
    def lengths(self) -> Tensor:
        """(N,) int64 number of real tokens per text."""
        return self.mask.sum(dim=1)

    def trimmed(self) -> EncodedTexts:
        """The same features with T cut to the longest text (less memory and attention work)."""
        t = max(1, int(self.lengths.max())) if len(self) else 1

        def cut(x: Tensor | None) -> Tensor | None:
            return None if x is None else x[:, :t]

        return EncodedTexts(
            self.pooled,
            self.mask[:, :t],
            self.input_ids[:, :t],
            cut(self.states),
            cut(self.layer_states),
            self.top_layers,
        )


class TextEncoder(nn.Module):
    """Backbone + tokenizer + pooling. `self.model` is the transformers base model."""

    def __init__(self, config: TextEncoderConfig, backbone: Backbone | None = None) -> None:
        super().__init__()
        if backbone is None:
            backbone = load_backbone(config.backbone)
        elif backbone.name != config.backbone:
            raise ConfigError(
                "backbone", f"config names {config.backbone!r} but the given backbone is {backbone.name!r}"
            )
        limit = getattr(backbone.model.config, "max_position_embeddings", None)
        if limit is not None and config.max_length > int(limit):
            raise ConfigError("max_length", f"{backbone.name} has {limit} positions, got {config.max_length}")
        self.config = config
        self.backbone = backbone
        self.model = backbone.model
        self.tokenizer = backbone.tokenizer
        self.pooling: Literal["last", "mean"] = backbone.default_pooling if config.pooling == "auto" else config.pooling
        self._identity_memo = (stamp_at_load(backbone), backbone.identity)
        self._plan: SplitPlan | str | None = None  # split_plan(): chosen on first use
        # Start in the backbone's (eval) mode; a parent model's .train() turns dropout on.
        self.train(backbone.model.training)

    @property
    def hidden_size(self) -> int:
        return self.backbone.hidden_size

    @property
    def n_layers(self) -> int:
        return self.backbone.n_layers

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def identity(self) -> str:
        """The backbone's identity while its weights are as loaded; a content hash after any
        change (optimizer step, LoRA adapters), so cached features never go stale silently."""
        stamp = weights_stamp(self.model)
        if stamp != self._identity_memo[0]:
            tuned = state_dict_sha256(self.model)
            ident = hashlib.sha256(f"{self.backbone.identity}|{tuned}".encode()).hexdigest()
            self._identity_memo = (stamp, ident)
        return self._identity_memo[1]

    # ---- tokenization -------------------------------------------------------------------

    def _token_ids(self, texts: Sequence[str], *, details: bool) -> dict[str, list[Any]]:
        """Unpadded ids (and offsets, special masks when `details`) per text, truncated."""
        enc = self.tokenizer(
            list(texts),
            truncation=True,
            max_length=self.config.max_length,
            return_attention_mask=False,
            return_offsets_mapping=details,
            return_special_tokens_mask=details,
        )
        rows: dict[str, list[Any]] = {"input_ids": [list(r) for r in enc["input_ids"]]}
        if details:
            rows["offsets"] = [list(map(tuple, r)) for r in enc["offset_mapping"]]
            rows["special"] = [list(r) for r in enc["special_tokens_mask"]]
            rows["raw"] = [enc.tokens(i) for i in range(len(texts))]
        # GPT-2 adds no special tokens, so "" has no token at all: give it one end-of-text
        # token so that every text has a vector (BERT texts always have [CLS] [SEP]).
        fill = self.tokenizer.eos_token_id
        fill = self.tokenizer.pad_token_id if fill is None else fill
        for i, ids in enumerate(rows["input_ids"]):
            if not ids:
                ids.append(int(fill))
                if details:
                    rows["offsets"][i] = [(0, 0)]
                    rows["special"][i] = [1]
                    rows["raw"][i] = [self.tokenizer.convert_ids_to_tokens(int(fill))]
        return rows

    def _pad(self, rows: Sequence[Sequence[int]], width: int) -> tuple[Tensor, Tensor]:
        """Right-pad id lists to `width`: input_ids (B, width) int64, attention_mask (B, width)."""
        ids = torch.full((len(rows), width), int(self.tokenizer.pad_token_id), dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.as_tensor(row, dtype=torch.long)
            mask[i, : len(row)] = 1
        return ids, mask

    def tokenize(self, texts: Sequence[str], *, pad_to_max_length: bool = False, readable: bool = True) -> TokenBatch:
        """Tokenize `texts`, padded to the longest (or to `max_length`): shapes (B, T).

        `readable=False` skips the token strings (`tokens` is then empty), which a training
        loop that only needs ids does not want to pay for on every batch.
        """
        rows = self._token_ids(texts, details=True)
        longest = max((len(r) for r in rows["input_ids"]), default=1)
        width = self.config.max_length if pad_to_max_length else longest
        input_ids, attention_mask = self._pad(rows["input_ids"], width)
        offsets = torch.zeros((len(texts), width, 2), dtype=torch.long)
        special = torch.zeros((len(texts), width), dtype=torch.bool)
        strings: list[tuple[str, ...]] = []
        for i, text in enumerate(texts):
            n = len(rows["input_ids"][i])
            offsets[i, :n] = torch.as_tensor(rows["offsets"][i], dtype=torch.long).view(n, 2)
            special[i, :n] = torch.as_tensor(rows["special"][i], dtype=torch.bool)
            if readable:
                strings.append(
                    tuple(readable_tokens(self.tokenizer, rows["raw"][i], text, rows["offsets"][i], rows["special"][i]))
                )
        return TokenBatch(input_ids, attention_mask, offsets, special, tuple(strings))

    def token_labels(self, table: TextTable, k: int) -> list[tuple[str, str]]:
        """(readable token, field) per real token of text k; see `tokens.token_labels`."""
        return token_labels(self, table, k)

    # ---- forward passes -----------------------------------------------------------------

    def split_plan(self) -> SplitPlan:
        """How this backbone runs its top blocks in dynamic mode (see `rec_core.text.layout`).

        Chosen once per encoder and checked numerically against the model's own forward on a
        few texts: direct block calls ("split") when they reproduce it, else the full-forward
        "fallback". ConfigError when the model has no block list or neither way reproduces it.
        """
        if self._plan is None:
            self._plan = self._choose_plan()
        if isinstance(self._plan, str):
            raise ConfigError("backbone", self._plan)
        return self._plan

    def _choose_plan(self) -> SplitPlan | str:
        return choose_plan(self)

    def _verify_plan(self, plan: SplitPlan) -> str | None:
        """None if `plan` reproduces the full forward (see `split_run.verify_plan`)."""
        return verify_plan(self, plan)

    @property
    def precision(self) -> str:
        """ "bf16" or "fp32": the config's choice, "auto" resolved for the current device."""
        if self.config.precision != "auto":
            return self.config.precision
        device = self.device
        return "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "fp32"

    def forward_states(
        self, input_ids: Tensor | None, attention_mask: Tensor, *, from_layer: int = 0, hidden_in: Tensor | None = None
    ) -> Tensor:
        """`_forward_states` under bf16 autocast when `precision` says so; float32 out."""
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            out = self._forward_states(input_ids, attention_mask, from_layer=from_layer, hidden_in=hidden_in)
        return out.float() if out.dtype != torch.float32 else out

    def _forward_states(
        self, input_ids: Tensor | None, attention_mask: Tensor, *, from_layer: int = 0, hidden_in: Tensor | None = None
    ) -> Tensor:
        """Last hidden states (B, T, H), with gradients if enabled.

        `from_layer=0` without `hidden_in` is the model's own full forward on input_ids (B, T).
        Otherwise `hidden_in` (B, T, H) is the hidden state entering block `from_layer`
        (as stored by `encode(keep_layer_input=...)`) and only blocks `from_layer..n_layers-1`
        (and a final norm such as GPT-2's `ln_f`) run with gradients; `input_ids` is then
        unused. How the blocks run is `split_plan()`'s choice.
        """
        device = self.device
        attention_mask = attention_mask.to(device)
        if hidden_in is None:
            if from_layer != 0 or input_ids is None:
                raise ConfigError("hidden_in", "needed unless from_layer is 0 with input_ids")
            return self.model(input_ids=input_ids.to(device), attention_mask=attention_mask).last_hidden_state
        if not 0 <= from_layer <= self.n_layers:
            raise ConfigError("from_layer", f"must be in [0, {self.n_layers}], got {from_layer}")
        plan = self.split_plan()
        hidden = hidden_in.to(device=device, dtype=next(self.model.parameters()).dtype)
        return run_plan(self, plan, hidden, attention_mask, from_layer)

    def run_top_layers(self, hidden_in: Tensor, attention_mask: Tensor, k: int) -> Tensor:
        """Run the last `k` blocks on `hidden_in` (B, T, H), the input of block n_layers - k.

        Returns the last hidden states (B, T, H) with gradients; equal (to float rounding) to
        the full forward when the weights did not change.
        """
        if not 1 <= k <= self.n_layers:
            raise ConfigError("k", f"must be in [1, {self.n_layers}], got {k}")
        return self.forward_states(None, attention_mask, from_layer=self.n_layers - k, hidden_in=hidden_in)

    def pool(self, states: Tensor, attention_mask: Tensor) -> Tensor:
        """One vector per text (B, H) from states (B, T, H) and attention_mask (B, T).

        "mean" averages the real tokens only; "last" takes the last real token (wherever the
        padding is), the only one a causal model lets see the whole text.
        """
        mask = attention_mask.to(states.device).bool()
        if self.pooling == "mean":
            weights = mask.unsqueeze(-1).to(states.dtype)  # (B, T, 1)
            return (states * weights).sum(1) / weights.sum(1).clamp_min(1.0)
        positions = torch.arange(states.shape[1], device=states.device)
        last = (mask.long() * positions).amax(dim=1)  # (B,)
        return states[torch.arange(states.shape[0], device=states.device), last]

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        """Pooled vectors (B, H) with gradients: the dynamic (end-to-end) path."""
        return self.pool(self.forward_states(input_ids, attention_mask), attention_mask)

    @torch.no_grad()
    def encode(
        self,
        texts: Sequence[str],
        *,
        keep_states: bool = True,
        keep_layer_input: int | None = None,
        progress: EncodeProgress | None = None,
    ) -> EncodedTexts:
        """Encode all texts without gradients; results in input order (see `EncodedTexts`).

        Texts run longest first in batches of `batch_size`, each padded only to its own
        longest text, so little compute is spent on padding. `keep_layer_input=k` also keeps
        the hidden states entering block `n_layers - k`, for `run_top_layers(..., k)`.
        `progress(done, total)` is called with 0 texts done before the first batch and after
        every batch (the last call has done == total); without it, the one `encoding_progress`
        set, if any.
        """
        report = progress if progress is not None else _PROGRESS.get()
        k = keep_layer_input
        if k is not None and not 1 <= k <= self.n_layers:
            raise ConfigError("keep_layer_input", f"must be in [1, {self.n_layers}], got {k}")
        ids = self._token_ids(texts, details=False)["input_ids"] if len(texts) else []  # tokenizers fail on []
        n, width, h = len(ids), self.config.max_length, self.hidden_size
        # Outputs are made outside inference mode: inference tensors could not be used later
        # in computations that autograd records (e.g. a trainable layer over cached states).
        pooled = torch.zeros((n, h))
        input_ids = torch.full((n, width), int(self.tokenizer.pad_token_id), dtype=torch.long)
        mask = torch.zeros((n, width), dtype=torch.bool)
        states = torch.zeros((n, width, h)) if keep_states else None
        layer_states = torch.zeros((n, width, h)) if k is not None else None

        captured: list[Tensor] = []
        hook = None
        if k is not None:
            blocks = self.split_plan().layout.blocks
            hook = blocks[self.n_layers - k].register_forward_pre_hook(
                lambda _m, args, kwargs: captured.append(args[0] if args else kwargs["hidden_states"]), with_kwargs=True
            )
        order = sorted(range(n), key=lambda i: -len(ids[i]))  # longest first: memory peaks early
        # Restore each module's own mode afterwards (a frozen backbone may sit in eval mode
        # inside a model that is training).
        modes = [(module, module.training) for module in self.modules()]
        self.eval()  # no dropout in features
        if report is not None:
            report(0, n)
        try:
            for start in range(0, n, self.config.batch_size):
                rows = order[start : start + self.config.batch_size]
                b_ids, b_mask = self._pad([ids[i] for i in rows], max(len(ids[i]) for i in rows))
                captured.clear()
                with torch.inference_mode():
                    out = self.forward_states(b_ids, b_mask)  # (b, t, H)
                    b_pooled = self.pool(out, b_mask)
                index, t = torch.as_tensor(rows), b_ids.shape[1]
                pooled[index] = b_pooled.float().cpu()
                input_ids[index, :t] = b_ids
                mask[index, :t] = b_mask.bool()
                keep = b_mask.bool().unsqueeze(-1).cpu()  # padding rows stay exactly zero
                if states is not None:
                    states[index, :t] = out.float().cpu() * keep
                if layer_states is not None:
                    layer_states[index, :t] = captured[0].float().cpu() * keep
                if report is not None:
                    report(start + len(rows), n)
        finally:
            if hook is not None:
                hook.remove()
            for module, training in modes:
                module.training = training
        return EncodedTexts(pooled, mask, input_ids, states, layer_states, k)
