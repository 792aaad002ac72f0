"""Token states memory-mapped from the feature cache (issue 12): a catalogue's states are never
held in memory twice. The mapped read equals the in-memory one, a block-wise miss writes what
one `encode` call gives, old files map the same way, and `TextSide` keeps no second full copy."""

from __future__ import annotations

import ctypes
import gc
import threading
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from rec_core.models import text_features
from rec_core.models.text_features import TextSide
from rec_core.text import TINY_GPT2, EncodedTexts, FeatureCache, TextEncoder, TextEncoderConfig
from rec_core.text import cache as cache_module
from rec_core.text.cache import TextFeaturesNotFinite, _tensors_sha256
from rec_core.text.mapped import mapped_path
from tests.helpers import SAMPLE_TEXTS

TEXTS = SAMPLE_TEXTS + ["", "Fargo", "a much longer text than the others, with many more words in it"]


@pytest.fixture(scope="module")
def tiny() -> TextEncoder:
    return TextEncoder(TextEncoderConfig(backbone=TINY_GPT2, max_length=24, batch_size=2))


def test_mapped_features_are_the_file_and_equal_the_plain_read(tiny: TextEncoder, tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path)
    plain, hit = cache.get_or_encode(tiny, TEXTS, keep_layer_input=1)
    assert not hit
    path = cache.path_for(cache.key(tiny, TEXTS, keep_layer_input=1))
    mapped, hit = cache.get_or_encode(tiny, TEXTS, keep_layer_input=1, mapped=True)
    assert hit
    for name in ("states", "layer_states"):
        x = getattr(mapped, name)
        assert x.dtype == torch.float16 and mapped_path(x) == str(path), name
        assert torch.equal(x.float(), getattr(plain, name)), name
    for name in ("pooled", "mask", "input_ids"):
        assert torch.equal(getattr(mapped, name), getattr(plain, name)), name
        assert mapped_path(getattr(mapped, name)) is None, f"{name} is copied out of the file"
    assert plain.states is not None and mapped_path(plain.states) is None, "the plain read is in memory"


def test_blockwise_miss_writes_what_one_encode_gives(
    tiny: TextEncoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference, _ = FeatureCache(tmp_path / "plain").get_or_encode(tiny, TEXTS, keep_layer_input=1)
    monkeypatch.setattr(cache_module, "_BLOCK_BYTES", 1)  # one batch (2 texts) per block
    calls: list[tuple[int, int]] = []
    cache = FeatureCache(tmp_path / "mapped")
    mapped, hit = cache.get_or_encode(
        tiny, TEXTS, keep_layer_input=1, mapped=True, progress=lambda done, total: calls.append((done, total))
    )
    assert not hit and mapped.top_layers == 1
    for name in ("pooled", "mask", "input_ids"):
        assert torch.equal(getattr(mapped, name), getattr(reference, name)), name
    for name in ("states", "layer_states"):
        assert torch.equal(getattr(mapped, name).float(), getattr(reference, name)), name
    n = len(TEXTS)
    assert calls[0] == (0, n) and calls[-1] == (n, n)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and {t for _, t in calls} == {n}
    # A standard safetensors file, whose checksum is verified on the next read.
    path = cache.path_for(cache.key(tiny, TEXTS, keep_layer_input=1))
    with safe_open(path, framework="pt") as f:
        stored = {k: f.get_tensor(k) for k in f.keys()}
        assert (f.metadata() or {})["sha256"] == _tensors_sha256(stored)
    again, hit = cache.get_or_encode(tiny, TEXTS, keep_layer_input=1, mapped=True)
    assert hit and again.states is not None and mapped.states is not None
    assert torch.equal(again.states, mapped.states)


def test_float16_overflow_is_stored_as_float32(
    tiny: TextEncoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tiny.encode

    def loud(*args: object, **kw: object) -> EncodedTexts:
        out = real(*args, **kw)  # type: ignore[arg-type]
        assert out.states is not None
        out.states.mul_(1e6)  # a large LLM's residual stream can exceed float16's range
        return out

    monkeypatch.setattr(tiny, "encode", loud)
    mapped, _ = FeatureCache(tmp_path).get_or_encode(tiny, TEXTS, mapped=True)
    assert mapped.states is not None and mapped.states.dtype == torch.float32
    assert torch.equal(mapped.states, loud(TEXTS).states)  # type: ignore[arg-type]


def test_non_finite_features_are_never_stored_blockwise(
    tiny: TextEncoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tiny.encode

    def broken(*args: object, **kw: object) -> EncodedTexts:
        out = real(*args, **kw)  # type: ignore[arg-type]
        out.pooled[0] = float("nan")
        return out

    monkeypatch.setattr(tiny, "encode", broken)
    with pytest.raises(TextFeaturesNotFinite):
        FeatureCache(tmp_path).get_or_encode(tiny, TEXTS, mapped=True)
    assert not list(tmp_path.iterdir())  # neither the entry nor a temporary file


def test_file_written_by_safetensors_is_mapped(tmp_path: Path) -> None:
    # `put` writes with safetensors.save_file, as every entry before mapped reads existed.
    encoded = _catalogue(50, 12, 8)
    cache = FeatureCache(tmp_path)
    path = cache.put("k" * 64, encoded)
    mapped = cache.get("k" * 64, mapped=True)
    assert mapped is not None and mapped.states is not None and mapped_path(mapped.states) == str(path)
    assert torch.equal(mapped.states.float(), encoded.states.half().float())  # type: ignore[union-attr]


def _catalogue(n: int, t: int, h: int, seed: int = 0) -> EncodedTexts:
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, t + 1, (n,), generator=generator)
    mask = torch.arange(t)[None] < lengths[:, None]
    states = torch.randn(n, t, h, generator=generator) * mask.unsqueeze(-1)
    return EncodedTexts(
        pooled=torch.randn(n, h, generator=generator),
        mask=mask,
        input_ids=torch.zeros(n, t, dtype=torch.long),
        states=states,
    )


def test_blockwise_reduction_matches_one_piece(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = FeatureCache(tmp_path)
    cache.put("k" * 64, _catalogue(300, 20, 48))
    enc = cache.get("k" * 64, mapped=True)
    assert enc is not None
    whole = TextSide(enc.trimmed(), 16)
    monkeypatch.setattr(text_features, "_WHOLE_BYTES", 0)
    monkeypatch.setattr(text_features, "_BLOCK_BYTES", 20 * 48 * 4 * 7)  # 7 rows a block
    assert len(text_features._row_blocks(enc.states)) == 43  # type: ignore[arg-type]
    blocks = TextSide(enc.trimmed(), 16)
    torch.testing.assert_close(blocks.pca_mean, whole.pca_mean, rtol=0, atol=1e-6)
    # Same axes up to rounding (signs fixed), so the same reduced states.
    torch.testing.assert_close(blocks.pca_axes, whole.pca_axes, rtol=0, atol=1e-5)
    torch.testing.assert_close(blocks.reduced, whole.reduced, rtol=0, atol=1e-4)
    before = blocks.reduced.clone()
    blocks.refresh(blocks._states)  # what a checkpoint load does
    assert torch.equal(blocks.reduced, before)


def _rss_anon_kb() -> int:
    """This process's anonymous resident memory (not file pages: a mapped cache file's pages
    are the kernel's page cache, which it can drop)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    raise AssertionError("no RssAnon in /proc/self/status")


def _trim_heap() -> None:
    """Give freed heap memory back to the system (glibc), so that what is measured is held."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # another C library: the bounds below leave room
        pass


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's /proc")
def test_text_side_keeps_no_second_copy_of_the_states(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 98 MB (float16) catalogue of token states: reading it from the cache and building its
    TextSide neither holds nor passes through a float32 copy (197 MB), measured as this
    process's anonymous memory (the plain read, `mapped=False`, fails both bounds)."""
    n, t, h, rank = 2000, 64, 384, 4
    cache = FeatureCache(tmp_path)
    path = cache.put("k" * 64, _catalogue(n, t, h))
    gc.collect()
    # Blocks of 2 MB instead of 32 MB, so that the bound below is a small share of the states.
    monkeypatch.setattr(text_features, "_WHOLE_BYTES", 8 << 20)
    monkeypatch.setattr(text_features, "_BLOCK_BYTES", 2 << 20)
    file_mb = n * t * h * 2 / 2**20  # 93.75 MiB as float16
    _trim_heap()
    base = _rss_anon_kb()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_anon_kb())
            done.wait(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:  # what encode_table and the model do: read the cache entry, build the TextSide
        enc = cache.get("k" * 64, mapped=True)
        assert enc is not None
        side = TextSide(enc.trimmed(), rank)
    finally:
        done.set()
        sampler.join()
    _trim_heap()
    held_mb = (_rss_anon_kb() - base) / 1024
    peak_mb = (peak[0] - base) / 1024
    # The one reference kept for refresh is the file itself, not a copy.
    assert side._states is not None and mapped_path(side._states) == str(path)
    assert all(mapped_path(b) is None and b.numel() < n * t * h / 8 for b in side.buffers())
    # Measured: held 14 MB (reduced states at rank 4 in three layouts, pooled vectors, mask,
    # allocator slack), peak 29 MB. A float32 copy of the states alone would be 188 MB (the
    # plain read, `mapped=False`, holds 214 MB); the bounds leave room for other threads.
    assert held_mb < 0.4 * file_mb, f"held {held_mb:.0f} MB for {file_mb:.0f} MB of states"
    assert peak_mb < 0.75 * file_mb, f"peaked at {peak_mb:.0f} MB for {file_mb:.0f} MB of states"
