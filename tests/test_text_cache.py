"""FeatureCache: hits only for the same encoder, options and texts; atomic; fast to load."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rec_core.text import (
    MINILM,
    TINY_GPT2,
    EncodedTexts,
    FeatureCache,
    TextEncoder,
    TextEncoderConfig,
    default_cache_root,
    load_backbone,
)

TEXTS = ["Toy Story (1995). Genres: Animation.", "Heat (1995). Genres: Crime.", "", "Fargo"]


@pytest.fixture(scope="module")
def tiny() -> TextEncoder:
    return TextEncoder(TextEncoderConfig(backbone=TINY_GPT2, max_length=16))


def test_miss_then_hit_returns_the_same_features(tiny: TextEncoder, tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path)
    first, hit = cache.get_or_encode(tiny, TEXTS, keep_layer_input=1)
    assert not hit
    second, hit = cache.get_or_encode(tiny, TEXTS, keep_layer_input=1)
    assert hit
    for name in ("pooled", "mask", "input_ids", "states", "layer_states"):
        assert torch.equal(getattr(first, name), getattr(second, name)), name
    assert second.states is not None and second.states.dtype == torch.float32
    assert second.top_layers == 1 and second.mask.dtype == torch.bool
    exact = tiny.encode(TEXTS)
    assert torch.equal(second.pooled, exact.pooled), "pooled vectors are stored in float32"
    torch.testing.assert_close(second.states, exact.states, atol=2e-3, rtol=1e-3)
    assert list(tmp_path.iterdir()) == [cache.path_for(cache.key(tiny, TEXTS, keep_layer_input=1))]


def test_float32_store_is_exact(tiny: TextEncoder, tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path, store_dtype="float32")
    cache.get_or_encode(tiny, TEXTS)
    loaded, hit = cache.get_or_encode(tiny, TEXTS)
    assert hit and torch.equal(loaded.states, tiny.encode(TEXTS).states)


def test_every_key_ingredient_changes_the_key(tiny: TextEncoder, tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path)
    base = cache.key(tiny, TEXTS)
    assert base == cache.key(tiny, list(TEXTS)) == FeatureCache(tmp_path / "x").key(tiny, TEXTS)
    backbone = tiny.backbone
    variants = {
        "text edited": cache.key(tiny, [TEXTS[0] + " "] + TEXTS[1:]),
        "texts reordered": cache.key(tiny, TEXTS[::-1]),
        "texts joined": cache.key(tiny, [TEXTS[0] + TEXTS[1]] + TEXTS[2:]),
        "max_length": cache.key(TextEncoder(TextEncoderConfig(TINY_GPT2, max_length=17), backbone), TEXTS),
        "pooling": cache.key(TextEncoder(TextEncoderConfig(TINY_GPT2, max_length=16, pooling="mean"), backbone), TEXTS),
        "backbone": cache.key(TextEncoder(TextEncoderConfig(MINILM, max_length=16)), TEXTS),
        "keep_layer_input": cache.key(tiny, TEXTS, keep_layer_input=1),
        "keep_states": cache.key(tiny, TEXTS, keep_states=False),
        "store_dtype": FeatureCache(tmp_path, store_dtype="float32").key(tiny, TEXTS),
    }
    assert base not in variants.values()
    assert len(set(variants.values())) == len(variants)


def test_changed_weights_miss(tmp_path: Path) -> None:
    encoder = TextEncoder(TextEncoderConfig(backbone=TINY_GPT2, max_length=16), load_backbone(TINY_GPT2))
    cache = FeatureCache(tmp_path)
    _, hit = cache.get_or_encode(encoder, TEXTS)
    assert not hit
    with torch.no_grad():
        encoder.model.h[1].mlp.c_fc.weight.add_(0.01)  # what an optimizer step does
    _, hit = cache.get_or_encode(encoder, TEXTS)
    assert not hit


def test_corrupt_or_foreign_file_is_a_miss(tiny: TextEncoder, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = FeatureCache(tmp_path)
    key = cache.key(tiny, TEXTS)
    cache.path_for(key).parent.mkdir(parents=True, exist_ok=True)
    cache.path_for(key).write_bytes(b"not a safetensors file")
    assert cache.get(key) is None and "unreadable" in caplog.text
    _, hit = cache.get_or_encode(tiny, TEXTS)
    assert not hit and cache.get(key) is not None
    other = cache.key(tiny, TEXTS[:2])
    cache.path_for(other).write_bytes(cache.path_for(key).read_bytes())  # wrong key inside
    assert cache.get(other) is None
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert cache.clear() == 2 and cache.get(key) is None


def test_default_root_follows_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REC_CORE_CACHE", str(tmp_path))
    assert default_cache_root() == tmp_path / "features"
    assert FeatureCache().root == tmp_path / "features"
    monkeypatch.delenv("REC_CORE_CACHE")
    assert default_cache_root().parts[-2:] == ("rec_core", "features")


def test_hit_for_movielens_size_round_trips(tmp_path: Path) -> None:
    # Its speed (a hit is about 0.14 s) is measured in bench/speed.py, not asserted here.
    n, t, h = 1682, 64, 384  # ML-100K items x max_length x MiniLM width (~165 MB float32)
    generator = torch.Generator().manual_seed(0)
    mask = torch.zeros(n, t, dtype=torch.bool)
    mask[:, :20] = True
    states = torch.randn(n, t, h, generator=generator) * mask.unsqueeze(-1)
    encoded = EncodedTexts(
        pooled=torch.randn(n, h, generator=generator),
        mask=mask,
        input_ids=torch.zeros(n, t, dtype=torch.long),
        states=states,
    )
    cache = FeatureCache(tmp_path)
    cache.put("k" * 64, encoded)
    loaded = cache.get("k" * 64)
    assert loaded is not None and loaded.states is not None
    assert loaded.states.shape == (n, t, h) and loaded.states.dtype == torch.float32
    assert torch.equal(loaded.mask, mask)
    # Stored as float16: equal to float16 rounding.
    torch.testing.assert_close(loaded.states, states.half().float(), rtol=0, atol=0)
