"""`TextEncoderConfig` and the rules on the text fields the text models share (pooling,
precision)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from rec_core.errors import ConfigError

__all__ = ["PRECISIONS", "Pooling", "TextEncoderConfig", "check_precision"]

Pooling = Literal["auto", "last", "mean"]
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16")


@dataclass(frozen=True)
class TextEncoderConfig:
    """How texts become vectors. Serialises to JSON with the model's config."""

    backbone: str = "minilm"  # "minilm", "tiny-gpt2", a hub id in the local cache, or a dir
    max_length: int = 64  # tokens per text after truncation, special tokens included; > 0
    pooling: Pooling = "auto"  # "auto" = backbone default (causal: last token, encoder: mean)
    batch_size: int = 128  # texts per forward pass in `encode`; > 0
    # Backbone arithmetic: "fp32"; "bf16" autocast (outputs still float32); "auto" = bf16 on a
    # CUDA device that supports it, fp32 elsewhere (CPU features stay exactly reproducible).
    precision: Literal["auto", "fp32", "bf16"] = "auto"

    def __post_init__(self) -> None:
        if not isinstance(self.backbone, str) or not self.backbone:
            raise ConfigError("backbone", "must be a non-empty name or directory")
        for name in ("max_length", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(name, f"must be a positive integer, got {value!r}")
        if self.pooling not in ("auto", "last", "mean"):
            raise ConfigError("pooling", f"must be auto, last or mean, got {self.pooling!r}")
        check_precision(self.precision)


def check_precision(value: Any) -> None:
    """The rule of the `precision` field (the encoder's and the text models')."""
    if value not in PRECISIONS:
        raise ConfigError("precision", f"allowed: {', '.join(PRECISIONS)}; got {value!r}")
