"""The text feature cache: damaged entries are detected by their checksum and rebuilt; features
with NaN or inf are never kept (a bad entry must not fail every later run with "loss became nan")."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
import torch

from rec_core.text import TINY_GPT2, FeatureCache, TextEncoder, TextEncoderConfig
from rec_core.text.cache import TextFeaturesNotFinite

TEXTS = ["Toy Story (1995). Genres: Animation.", "Heat (1995). Genres: Crime.", "", "Fargo"]


@pytest.fixture(scope="module")
def tiny() -> TextEncoder:
    return TextEncoder(TextEncoderConfig(backbone=TINY_GPT2, max_length=16))


def _overwrite(path: Path, tensor: str, data: bytes) -> None:
    """Write `data` over the start of `tensor`'s bytes in a safetensors file (same size)."""
    raw = bytearray(path.read_bytes())
    (n,) = struct.unpack("<Q", raw[:8])
    start, end = json.loads(raw[8 : 8 + n])[tensor]["data_offsets"]
    assert len(data) <= end - start
    raw[8 + n + start : 8 + n + start + len(data)] = data
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("damage", [b"\x00" * 64, struct.pack("<f", float("nan")) * 4], ids=["zeros", "nan"])
def test_damaged_entry_is_detected_and_rebuilt(tiny: TextEncoder, tmp_path: Path, damage: bytes) -> None:
    cache = FeatureCache(tmp_path)
    first, hit = cache.get_or_encode(tiny, TEXTS)
    assert not hit
    path = cache.path_for(cache.key(tiny, TEXTS))
    _overwrite(path, "pooled", damage)
    assert cache.get(cache.key(tiny, TEXTS)) is None and not path.exists()  # detected, deleted
    again, hit = cache.get_or_encode(tiny, TEXTS)
    assert not hit and torch.equal(again.pooled, first.pooled) and torch.isfinite(again.pooled).all()
    third, hit = cache.get_or_encode(tiny, TEXTS)
    assert hit and torch.equal(third.pooled, first.pooled)


def test_entry_without_checksum_is_still_checked_for_nan(tiny: TextEncoder, tmp_path: Path) -> None:
    from safetensors import safe_open
    from safetensors.torch import save_file

    cache = FeatureCache(tmp_path)
    cache.get_or_encode(tiny, TEXTS)
    path = cache.path_for(cache.key(tiny, TEXTS))
    with safe_open(path, framework="pt") as f:  # rewrite it as an entry from before checksums
        meta = {k: v for k, v in (f.metadata() or {}).items() if k != "sha256"}
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    tensors["pooled"][0, 0] = float("inf")
    save_file(tensors, path, metadata=meta)
    assert cache.get(cache.key(tiny, TEXTS)) is None and not path.exists()


def test_non_finite_features_are_never_stored(
    tiny: TextEncoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tiny.encode

    def broken(*args: object, **kw: object) -> Any:
        out = real(*args, **kw)
        out.pooled[1] = float("nan")
        return out

    monkeypatch.setattr(tiny, "encode", broken)
    cache = FeatureCache(tmp_path)
    with pytest.raises(TextFeaturesNotFinite, match="NaN or inf"):
        cache.get_or_encode(tiny, TEXTS)
    assert not list(tmp_path.glob("*.safetensors"))
