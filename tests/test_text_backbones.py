"""Backbones load offline: tiny-gpt2 is deterministic, missing hub ids fail fast and clearly."""

from __future__ import annotations

import time
from pathlib import Path

import huggingface_hub.constants
import pytest
import torch

from rec_core.errors import RecCoreError
from rec_core.text import (
    MINILM,
    TINY_GPT2,
    BackboneUnavailable,
    available_backbones,
    load_backbone,
)


@pytest.fixture()
def empty_hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty local HF cache, so results do not depend on what this machine cached."""
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    return cache


def test_tiny_gpt2_is_deterministic_and_labelled() -> None:
    before = torch.random.get_rng_state()
    a = load_backbone(TINY_GPT2)
    assert torch.equal(torch.random.get_rng_state(), before), "fixed seed leaked into global RNG"
    b = load_backbone(TINY_GPT2)
    assert a.identity == b.identity and len(a.identity) == 64
    for (name, x), (_, y) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert torch.equal(x, y), name
    assert type(a.model).__name__ == "GPT2Model"  # base model, not the LM head
    assert (a.kind, a.default_pooling, a.n_layers, a.hidden_size) == ("causal", "last", 2, 64)
    assert "no semantics" in a.description
    tok = a.tokenizer
    assert tok.is_fast and tok.pad_token_id == tok.eos_token_id and tok.padding_side == "right"
    enc = tok(["Toy Story (1995)"], return_offsets_mapping=True)
    assert enc["offset_mapping"][0][0] == (0, 2)


def test_missing_hub_id_fails_fast_with_instructions(empty_hf_cache: Path) -> None:
    start = time.monotonic()
    with pytest.raises(BackboneUnavailable) as info:
        load_backbone("gpt2")
    assert time.monotonic() - start < 10
    message = str(info.value)
    assert "huggingface-cli download gpt2" in message and "local model directory" in message
    assert isinstance(info.value, RecCoreError)


@pytest.mark.parametrize("name", ["distilgpt2", "no-such-org/no-such-model", "/no/such/dir"])
def test_other_missing_names_fail_fast(name: str, empty_hf_cache: Path) -> None:
    start = time.monotonic()
    with pytest.raises(BackboneUnavailable):
        load_backbone(name)
    assert time.monotonic() - start < 10


def _save_tiny(directory: Path) -> None:
    tiny = load_backbone(TINY_GPT2)
    tiny.model.save_pretrained(directory)
    tiny.tokenizer.save_pretrained(directory)


def test_local_directory_loads_as_causal_base_model(tmp_path: Path) -> None:
    _save_tiny(tmp_path / "model")
    first = load_backbone(str(tmp_path / "model"))
    second = load_backbone(str(tmp_path / "model"))
    assert type(first.model).__name__ == "GPT2Model"
    assert first.kind == "causal" and first.default_pooling == "last"
    assert first.identity == second.identity
    assert first.tokenizer.pad_token_id == first.tokenizer.eos_token_id
    ids = first.tokenizer(["Toy Story"], return_tensors="pt")["input_ids"]
    with torch.no_grad():
        got = first.model(input_ids=ids).last_hidden_state
        want = load_backbone(TINY_GPT2).model(input_ids=ids).last_hidden_state
    torch.testing.assert_close(got, want)


def test_hub_id_resolves_from_local_cache(empty_hf_cache: Path) -> None:
    # The layout huggingface_hub writes: models--<id>/refs/main -> snapshots/<commit>/files.
    repo = empty_hf_cache / "models--gpt2"
    commit = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    _save_tiny(repo / "snapshots" / commit)
    backbone = load_backbone("gpt2")
    assert backbone.name == "gpt2" and backbone.kind == "causal"
    rows = {row["name"]: row for row in available_backbones()}
    assert rows["gpt2"]["available"] is True
    assert rows["distilgpt2"]["available"] is False


def test_available_backbones_offline(empty_hf_cache: Path) -> None:
    start = time.monotonic()
    rows = {row["name"]: row for row in available_backbones()}
    assert time.monotonic() - start < 5
    assert rows[MINILM]["available"] is True and "bundled" in str(rows[MINILM]["description"])
    assert Path(str(rows[MINILM]["location"])).is_dir()
    assert rows[TINY_GPT2]["available"] is True
    assert "no semantics" in str(rows[TINY_GPT2]["description"])
    assert rows["gpt2"]["available"] is False and rows["gpt2"]["location"] is None
    assert "huggingface-cli download gpt2" in str(rows["gpt2"]["description"])


def test_minilm_is_bundled_encoder() -> None:
    backbone = load_backbone(MINILM)
    assert type(backbone.model).__name__ == "BertModel"
    assert (backbone.kind, backbone.default_pooling) == ("encoder", "mean")
    assert (backbone.n_layers, backbone.hidden_size) == (6, 384)
    assert backbone.identity == load_backbone(MINILM).identity
