"""`FeatureCache`: encoded texts on disk as safetensors, keyed by everything that shapes them.

The key is the sha256 of the encoder's identity (backbone name, config, weights, tokenizer;
a content hash once the weights were changed), `max_length`, the resolved pooling, what was
kept (token states, the input of the top k layers), the storage dtype and the exact texts.
Change any of them and the cache misses; nothing is keyed by a model name alone.

Files are written to a temporary name and renamed (atomic), so a reader never sees half a
file. Each entry carries the SHA-256 of its tensor bytes, verified on every read: an entry
whose bytes changed (zeros or NaN written into it, a bad disk) is deleted and re-encoded.
Features with NaN or inf are never stored (and never returned: the encoder is named instead). Token states are stored as float16 by default: half the disk and load time, at a
relative rounding error of about 5e-4; `store_dtype="float32"` keeps them exact. Pooled
vectors are always float32. Loaded features are float32 again.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import Tensor

from rec_core.runs.atomic import atomic_path
from rec_core.errors import ConfigError, RecCoreError
from rec_core.text.encoder import EncodedTexts, EncodeProgress, TextEncoder

__all__ = ["FeatureCache", "TextFeaturesNotFinite", "default_cache_root"]

FORMAT_VERSION = 1  # bump when the file layout changes: old entries then miss
_FLOAT16_MAX = 65504.0
log = logging.getLogger(__name__)


def default_cache_root() -> Path:
    """`$REC_CORE_CACHE/features` if that variable is set, else the user cache dir."""
    env = os.environ.get("REC_CORE_CACHE")
    if env:
        return Path(env).expanduser() / "features"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("rec_core")) / "features"


def _float(x: Tensor | None) -> Tensor | None:
    return None if x is None else x.float()


def _tensors_sha256(tensors: dict[str, Tensor]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of `tensors`, in name order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


def _non_finite(tensors: dict[str, Tensor]) -> list[str]:
    """Names of the floating-point tensors holding NaN or inf."""
    return [name for name, t in sorted(tensors.items())
            if t.is_floating_point() and t.numel() and not bool(torch.isfinite(t).all())]


def _texts_sha256(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        data = text.encode("utf-8")
        digest.update(len(data).to_bytes(8, "little"))  # length prefix: no ambiguous joins
        digest.update(data)
    return digest.hexdigest()


class TextFeaturesNotFinite(RecCoreError):
    """The encoder produced NaN or inf features; they are neither stored nor used."""

    def __init__(self, key: str, names: list[str]) -> None:
        self.names = names
        super().__init__(f"text features: the encoder produced NaN or inf values (in {', '.join(names)}); "
                         "nothing was cached. The backbone's weights or its float precision are broken for "
                         "these texts: try another backbone or float32")


class FeatureCache:
    """Encoded texts under `root`, one `<key>.safetensors` file per (encoder, texts, options)."""

    def __init__(self, root: Path | str | None = None, *,
                 store_dtype: Literal["float16", "float32"] = "float16") -> None:
        if store_dtype not in ("float16", "float32"):
            raise ConfigError("store_dtype", f"must be float16 or float32, got {store_dtype!r}")
        self.root = Path(root) if root is not None else default_cache_root()
        self.store_dtype = store_dtype

    def key(self, encoder: TextEncoder, texts: Sequence[str], *, keep_states: bool = True,
            keep_layer_input: int | None = None) -> str:
        """sha256 hex naming the features `encoder.encode(texts, ...)` would return."""
        material = {
            "format": FORMAT_VERSION,
            "backbone": encoder.backbone.name,
            "identity": encoder.identity,
            "max_length": encoder.config.max_length,
            "pooling": encoder.pooling,
            "keep_states": bool(keep_states),
            "keep_layer_input": keep_layer_input,
            "store_dtype": self.store_dtype,
            "n_texts": len(texts),
            "texts": _texts_sha256(texts),
        }
        if encoder.precision != "fp32":  # bf16 features differ; fp32 keys stay as they were
            material["precision"] = encoder.precision
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()

    def path_for(self, key: str) -> Path:
        return self.root / f"{key}.safetensors"

    def get(self, key: str) -> EncodedTexts | None:
        """Features stored under `key`, or None if absent or unreadable (then re-encoded)."""
        path = self.path_for(key)
        if not path.is_file():
            return None
        try:
            with safe_open(path, framework="pt") as f:  # memory-mapped read
                meta = f.metadata() or {}
                tensors = {name: f.get_tensor(name) for name in f.keys()}
        except (SafetensorError, OSError, ValueError) as err:
            log.warning("feature cache: ignoring unreadable %s (%s)", path, err)
            return None
        if meta.get("key") != key or meta.get("format") != str(FORMAT_VERSION):
            log.warning("feature cache: ignoring %s written for another key or format", path)
            return None
        # Entries written before checksums existed have none: those are checked for NaN / inf only.
        damaged = ("its tensor bytes differ from their checksum"
                   if meta.get("sha256") and _tensors_sha256(tensors) != meta["sha256"] else
                   f"NaN or inf in {', '.join(_non_finite(tensors))}" if _non_finite(tensors) else None)
        if damaged:
            log.warning("feature cache: %s is damaged (%s); deleting it, the texts are encoded again",
                        path, damaged)
            path.unlink(missing_ok=True)
            return None
        top = meta.get("top_layers", "")
        return EncodedTexts(pooled=tensors["pooled"].float(), mask=tensors["mask"].bool(),
                            input_ids=tensors["input_ids"].long(),
                            states=_float(tensors.get("states")),
                            layer_states=_float(tensors.get("layer_states")),
                            top_layers=int(top) if top else None)

    def put(self, key: str, encoded: EncodedTexts) -> Path:
        """Write `encoded` under `key` atomically; returns the file path."""
        return self._write(key, self._stored(encoded))

    def get_or_encode(self, encoder: TextEncoder, texts: Sequence[str], *,
                      keep_states: bool = True,
                      keep_layer_input: int | None = None,
                      progress: EncodeProgress | None = None) -> tuple[EncodedTexts, bool]:
        """(features, hit): loads them when cached, else encodes and stores them (reporting to
        `progress(done, total)` as `TextEncoder.encode` does).

        On a miss it returns what a later hit will load (float16-rounded states), so a run
        gives the same result whether its features came from the cache or not.
        """
        key = self.key(encoder, texts, keep_states=keep_states,
                       keep_layer_input=keep_layer_input)
        cached = self.get(key)
        if cached is not None:
            return cached, True
        stored = self._stored(encoder.encode(texts, keep_states=keep_states,
                                             keep_layer_input=keep_layer_input, progress=progress))
        self._write(key, stored)
        return replace(stored, states=_float(stored.states),
                       layer_states=_float(stored.layer_states)), False

    def _stored(self, encoded: EncodedTexts) -> EncodedTexts:
        """`encoded` with token states in the storage dtype (float16 unless it would overflow:
        some LLM residual streams exceed float16's 65504)."""

        def cast(x: Tensor | None) -> Tensor | None:
            if x is None:
                return None
            if self.store_dtype == "float16" and (x.numel() == 0 or
                                                  float(x.abs().max()) < _FLOAT16_MAX):
                return x.to(torch.float16)
            return x.float()

        return replace(encoded, states=cast(encoded.states),
                       layer_states=cast(encoded.layer_states))

    def _write(self, key: str, stored: EncodedTexts) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        tensors: dict[str, Tensor] = {
            "pooled": stored.pooled.float().contiguous(),
            "mask": stored.mask.contiguous(),
            "input_ids": stored.input_ids.to(torch.int32).contiguous(),  # vocab ids < 2**31
        }
        for name in ("states", "layer_states"):
            value = getattr(stored, name)
            if value is not None:
                tensors[name] = value.contiguous()
        bad = _non_finite(tensors)
        if bad:
            raise TextFeaturesNotFinite(key, bad)
        meta = {"format": str(FORMAT_VERSION), "key": key, "n": str(len(stored)),
                "top_layers": "" if stored.top_layers is None else str(stored.top_layers),
                "sha256": _tensors_sha256(tensors)}
        path = self.path_for(key)
        # The project's one atomic write (fsync, rename beside the target, temporary removed on
        # failure), shared with the run store.
        with atomic_path(path) as tmp:
            save_file(tensors, tmp, metadata=meta)
        return path

    def clear(self) -> int:
        """Delete every cached file under `root`; returns how many were removed."""
        removed = 0
        if self.root.is_dir():
            for path in self.root.glob("*.safetensors"):
                path.unlink(missing_ok=True)
                removed += 1
        return removed
