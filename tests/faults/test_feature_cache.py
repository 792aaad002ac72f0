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


def test_full_disk_while_writing_a_mapped_entry_fails_with_the_cause(
    tiny: TextEncoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: the file was only sized (sparse); filling its pages through the memory map on a
    # full disk killed the run with SIGBUS (exit 135, nothing on stderr) and left the .tmp.
    import errno
    import os

    from rec_core.text.mapped import NoSpaceForFile

    def full(*_a: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full)
    cache = FeatureCache(tmp_path / "cache")
    with pytest.raises(NoSpaceForFile, match="no space left on device .* MB needed") as info:
        cache.get_or_encode(tiny, TEXTS, mapped=True)
    assert "REC_CORE_CACHE" in str(info.value)
    assert list((tmp_path / "cache").iterdir()) == []  # the temporary file is gone too


def test_without_fallocate_the_free_space_is_checked(
    tiny: TextEncoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os
    import shutil
    from collections import namedtuple

    from rec_core.text.mapped import NoSpaceForFile

    def unsupported(*_a: object) -> None:
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(os, "posix_fallocate", unsupported)
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(10**9, 10**9 - 1000, 1000))
    with pytest.raises(NoSpaceForFile, match="0.0 MB free"):
        FeatureCache(tmp_path / "cache").get_or_encode(tiny, TEXTS, mapped=True)
    monkeypatch.undo()
    monkeypatch.setattr(os, "posix_fallocate", unsupported)  # enough space: it writes
    encoded, hit = FeatureCache(tmp_path / "cache").get_or_encode(tiny, TEXTS, mapped=True)
    assert not hit and len(encoded) == len(TEXTS)


def test_stale_temporary_files_of_killed_writers_are_swept(tiny: TextEncoder, tmp_path: Path) -> None:
    import os
    import time

    from filelock import FileLock

    from rec_core.text import cache as cache_module

    root = tmp_path / "cache"
    root.mkdir()
    old = time.time() - 3600
    stale, live, fresh = (root / f".{k}.safetensors.0123456789ab.tmp" for k in ("stale", "live", "fresh"))
    for path in (stale, live, fresh):
        path.write_bytes(b"\0" * 1024)
    for path in (stale, live):
        os.utime(path, (old, old))
    lock = cache_module._lock_of(live)
    with FileLock(lock):  # a writer still filling it (an encoding pass may take hours)
        os.utime(lock, (old, old))
        cache_module._SWEPT.discard(str(root))
        FeatureCache(root).get_or_encode(tiny, TEXTS, mapped=True)
        assert not stale.exists() and live.exists() and fresh.exists() and lock.exists()
    os.utime(lock, (old, old))
    assert cache_module.sweep_cache_tmp(root) == 1 and not live.exists()  # its writer is gone now
    assert not lock.exists() and not list(root.glob(".*.lock"))  # lock files go too
