"""Any causal LM in every mode: tiny random GPT-2, Llama, Qwen2 and BERT loaded from directories.

Split execution of the top blocks must reproduce the full forward (rotary positions, causal and
padding masks), LoRA must land on each architecture's attention projections and train nothing
else of the backbone, a checkpoint must score identically after reload, architectures without a
block list must be refused before a run folder exists, and missing files must fail fast.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
import torch
import transformers
from safetensors.torch import load_file, save_file

from rec_core.errors import ConfigError
from rec_core.models.base import TrainContext
from rec_core.models.enhanced import EnhancedConfig, GPT2RecommenderEnhanced
from rec_core.models.lora import lora_target_modules
from rec_core.text import (
    TINY_GPT2,
    BackboneUnavailable,
    TextEncoder,
    TextEncoderConfig,
    load_backbone,
    minilm_dir,
)
from rec_core.text.backbones import _kind_of
from rec_core.text.layout import check_backbone_mode, find_layout
from rec_core.train import TrainConfig, Trainer
from tests.helpers import SAMPLE_TEXTS, split_of, synthetic

TEXTS = SAMPLE_TEXTS[:5]
ARCHS = ("gpt2", "llama", "qwen2", "bert")
# Per architecture: block list, final norm, LoRA targets (leaf names), fan_in_fan_out.
EXPECTED = {
    "gpt2": ("h", "ln_f", {"c_attn"}, True),
    "llama": ("layers", "norm", {"q_proj", "v_proj"}, False),
    "qwen2": ("layers", "norm", {"q_proj", "v_proj"}, False),
    "bert": ("encoder.layer", None, {"query", "value"}, False),
}


def _config(arch: str, vocab: int, eos: int) -> transformers.PretrainedConfig:
    common = {
        "vocab_size": vocab,
        "hidden_size": 32,
        "num_hidden_layers": 3,
        "num_attention_heads": 4,
        "intermediate_size": 64,
        "max_position_embeddings": 64,
    }
    if arch == "gpt2":
        return transformers.GPT2Config(
            vocab_size=vocab, n_embd=32, n_layer=3, n_head=4, n_positions=64, bos_token_id=eos, eos_token_id=eos
        )
    if arch == "bert":
        return transformers.BertConfig(**common)
    ids = {"bos_token_id": eos, "eos_token_id": eos, "pad_token_id": eos}
    cls = {"llama": transformers.LlamaConfig, "qwen2": transformers.Qwen2Config}[arch]
    # Grouped-query attention (2 key/value heads for 4 query heads), as in the real families.
    return cls(num_key_value_heads=2, **common, **ids)


def _save(directory: Path, arch: str, seed: int = 0) -> Path:
    """A tiny randomly initialised `arch` base model and a fast tokenizer in `directory`."""
    if arch == "bert":
        tokenizer = transformers.AutoTokenizer.from_pretrained(minilm_dir(), local_files_only=True)
    else:
        tokenizer = load_backbone(TINY_GPT2).tokenizer
    eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = transformers.AutoModel.from_config(_config(arch, len(tokenizer), int(eos)))
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("any-lm")
    return {arch: _save(root / arch, arch) for arch in ARCHS}


@pytest.fixture(autouse=True)
def _private_feature_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REC_CORE_CACHE", str(tmp_path / "cache"))


def _encoder(directory: Path) -> TextEncoder:
    return TextEncoder(TextEncoderConfig(backbone=str(directory), max_length=32, batch_size=2))


def test_causal_detection_is_generic() -> None:
    for config in (
        transformers.OlmoConfig(),
        transformers.Qwen2Config(),
        transformers.PhiConfig(),
        transformers.GPTNeoXConfig(),
    ):
        assert _kind_of(config) == "causal", config.model_type
    for config in (transformers.BertConfig(), transformers.RobertaConfig()):
        assert _kind_of(config) == "encoder", config.model_type


@pytest.mark.parametrize("arch", ARCHS)
def test_layout_and_lora_targets_found_per_architecture(arch: str, model_dirs: dict[str, Path]) -> None:
    encoder = _encoder(model_dirs[arch])
    assert encoder.backbone.kind == ("encoder" if arch == "bert" else "causal")
    plan = encoder.split_plan()
    path, final, leaves, fan = EXPECTED[arch]
    assert plan.strategy == "split", "direct block calls reproduce the model's own forward"
    assert (plan.layout.path, plan.layout.final_path) == (path, final)
    assert (plan.rotary is not None) == (arch in ("llama", "qwen2"))
    targets, fan_in_fan_out = lora_target_modules(encoder, 2)
    assert fan_in_fan_out is fan
    assert {t.rsplit(".", 1)[-1] for t in targets} == leaves
    assert {int(t[len(path) + 1 :].split(".")[0]) for t in targets} == {1, 2}, "top 2 of 3 blocks"


@pytest.mark.parametrize("arch", ARCHS)
def test_top_blocks_reproduce_the_full_forward(arch: str, model_dirs: dict[str, Path]) -> None:
    encoder = _encoder(model_dirs[arch])
    for k in (1, 2, 3):
        out = encoder.encode(TEXTS, keep_layer_input=k)
        assert out.layer_states is not None and out.states is not None
        states = encoder.run_top_layers(out.layer_states, out.mask, k)
        mask = out.mask
        # Padded rows (right padding of short texts) must not leak into real tokens.
        torch.testing.assert_close(states.detach()[mask], out.states[mask], atol=1e-5, rtol=0)
        torch.testing.assert_close(encoder.pool(states.detach(), mask), out.pooled, atol=1e-5, rtol=0)
    # Gradients reach the top block only.
    out = encoder.encode(TEXTS, keep_layer_input=1)
    encoder.zero_grad(set_to_none=True)
    encoder.pool(encoder.run_top_layers(out.layer_states, out.mask, 1), out.mask).sum().backward()
    blocks = encoder.split_plan().layout.blocks
    assert any(p.grad is not None for p in blocks[2].parameters())
    assert all(p.grad is None for b in blocks[:2] for p in b.parameters())
    encoder.zero_grad(set_to_none=True)


@pytest.mark.parametrize("arch", ["llama", "bert"])
def test_full_forward_fallback_agrees_and_trains_only_the_top(arch: str, model_dirs: dict[str, Path]) -> None:
    encoder = _encoder(model_dirs[arch])
    split = encoder.split_plan()
    out = encoder.encode(TEXTS, keep_layer_input=1)
    want = encoder.run_top_layers(out.layer_states, out.mask, 1).detach()
    encoder._plan = dataclasses.replace(split, strategy="fallback")
    assert encoder._verify_plan(encoder._plan) is None
    for p in encoder.model.parameters():  # the model's state in dynamic mode: all frozen ...
        p.requires_grad_(False)
    top = encoder.split_plan().layout.blocks[2]
    for p in top.parameters():  # ... except the top block
        p.requires_grad_(True)
    got = encoder.run_top_layers(out.layer_states, out.mask, 1)
    torch.testing.assert_close(got.detach()[out.mask], want[out.mask], atol=1e-5, rtol=0)
    encoder.pool(got, out.mask).sum().backward()
    assert all(p.grad is not None for p in top.parameters())
    lower = encoder.split_plan().layout.blocks[:2]
    assert all(p.grad is None for b in lower for p in b.parameters())


def _enhanced(directory: Path, **overrides: object) -> tuple[GPT2RecommenderEnhanced, object, object]:
    data = synthetic()
    split = split_of(data, "ratio")
    config = EnhancedConfig.from_preset(
        "scheme2", backbone=str(directory), max_length=32, embed_dim=16, n_heads=2, dynamic_layers=2, **overrides
    )
    torch.manual_seed(0)
    model = GPT2RecommenderEnhanced(data.n_users, data.n_items, config, dataset=data)
    model.prepare(TrainContext(data.n_users, data.n_items, data.users[split.train], data.items[split.train]))
    return model, data, split


@pytest.mark.slow  # > 10 s on a 2-core machine: CI runs it, a plain local run leaves it out
@pytest.mark.parametrize("arch", ARCHS)
def test_enhanced_lora_in_dynamic_mode(arch: str, model_dirs: dict[str, Path], tmp_path: Path) -> None:
    model, data, split = _enhanced(model_dirs[arch])
    assert model.backbone_trainable_params > 0
    # 1. Before training (LoRA B = 0) dynamic encoding reproduces the cache (float16 states).
    model.eval()
    idx = torch.arange(12)
    for side in ("item", "user"):
        text = model.tower(side).text  # type: ignore[arg-type]  # side: a loop str
        cached, dynamic = text.cached(idx), text.dynamic(model.encoder, idx)
        t = dynamic[0].shape[1]
        torch.testing.assert_close(dynamic[0], cached[0][:, :t], rtol=2e-3, atol=2e-3)
        torch.testing.assert_close(dynamic[2], cached[2], rtol=2e-3, atol=2e-3)
    # 2. A few LoRA steps change adapters, fusion and IDs, never a backbone base weight.
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    base_before = {n: t.clone() for n, t in model.encoder.model.state_dict().items() if "lora_" not in n}
    trainer = Trainer(model, data, split, TrainConfig(epochs=1, lr=0.01, batch_size=256, device="cpu", patience=0))
    trainer.fit(1)
    changed = {n for n, p in model.named_parameters() if not torch.equal(p.detach(), before[n])}
    assert any("lora_B" in n for n in changed)
    assert any(n.startswith("item_tower.fusion.") for n in changed)
    assert any(n.startswith(("item_tower.ids.", "user_tower.ids.")) for n in changed)
    assert not {n for n in changed if n.startswith("encoder.") and "lora_" not in n}
    base_after = {n: t for n, t in model.encoder.model.state_dict().items() if "lora_" not in n}
    assert base_after.keys() == base_before.keys()
    assert all(torch.equal(base_after[n], base_before[n]) for n in base_before)
    trainable = {n for n, p in model.encoder.model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    # 3. Save and reload: the checkpoint (adapters, no frozen weights) scores identically.
    model.eval()
    users = torch.arange(data.n_users)
    scores = model.full_scores(users)
    state = model.checkpoint_state()
    assert any("lora_" in k for k in state) and not any(k in state for k in (f"encoder.model.{n}" for n in base_before))
    save_file({k: v.detach().contiguous().clone() for k, v in state.items()}, tmp_path / "model.safetensors")
    again, _, _ = _enhanced(model_dirs[arch])
    again.load_checkpoint_state(load_file(tmp_path / "model.safetensors"))
    again.eval()
    torch.testing.assert_close(again.full_scores(users), scores, atol=1e-5, rtol=1e-5)


def test_enhanced_chooses_the_fallback_when_split_calls_disagree(
    model_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    verify = TextEncoder._verify_plan
    monkeypatch.setattr(
        TextEncoder,
        "_verify_plan",
        lambda self, plan: (
            "pretend the blocks cannot be called alone" if plan.strategy == "split" else verify(self, plan)
        ),
    )
    model, _, _ = _enhanced(model_dirs["llama"])
    assert model.encoder.split_plan().strategy == "fallback"
    model.eval()
    idx = torch.arange(12)
    text = model.item_tower.text
    cached, dynamic = text.cached(idx), text.dynamic(model.encoder, idx)
    torch.testing.assert_close(dynamic[2], cached[2], rtol=2e-3, atol=2e-3)
    model.train()
    model.zero_grad(set_to_none=True)
    text.dynamic(model.encoder, idx)[2].sum().backward()
    grads = {n for n, p in model.encoder.model.named_parameters() if p.grad is not None}
    assert grads and all("lora_" in n and n.startswith(("layers.1.", "layers.2.")) for n in grads)


def test_unfrozen_top_blocks_mode_trains_only_those_blocks(model_dirs: dict[str, Path]) -> None:
    model, data, split = _enhanced(model_dirs["llama"], use_peft=False, freeze_gpt2=False)
    encoder = model.encoder
    layout = encoder.split_plan().layout
    trainable = {n for n, p in encoder.model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith(("layers.1.", "layers.2.", "norm.")) for n in trainable)
    before = {n: p.detach().clone() for n, p in encoder.model.named_parameters()}
    Trainer(model, data, split, TrainConfig(epochs=1, lr=0.01, batch_size=256, device="cpu", patience=0)).fit(1)
    changed = {n for n, p in encoder.model.named_parameters() if not torch.equal(p, before[n])}
    assert changed and changed <= trainable
    assert layout.path == "layers"


def _funnel_dir(directory: Path) -> Path:
    """A Funnel Transformer: its blocks are nested lists (block_sizes), not one list."""
    config = transformers.FunnelConfig(
        vocab_size=30522, block_sizes=[1, 2], num_decoder_layers=1, d_model=32, n_head=2, d_head=16, d_inner=64
    )
    transformers.FunnelModel(config).save_pretrained(directory)
    transformers.AutoTokenizer.from_pretrained(minilm_dir(), local_files_only=True).save_pretrained(directory)
    return directory


def test_architecture_without_block_list_is_refused_at_config_time(tmp_path: Path) -> None:
    directory = _funnel_dir(tmp_path / "funnel")
    backbone = load_backbone(str(directory))
    assert find_layout(backbone.model) is None
    assert EnhancedConfig(backbone=str(directory)).use_cache  # cached mode: accepted
    for overrides, mode in (
        ({"use_peft": True}, "dynamic LoRA mode"),
        ({"use_peft": False, "freeze_gpt2": False}, "dynamic mode"),
    ):
        with pytest.raises(ConfigError) as info:
            EnhancedConfig.from_preset("scheme2", backbone=str(directory), **overrides)
        message = str(info.value)
        assert info.value.field == "backbone" and mode in message and "'funnel'" in message
        assert "Supported:" in message and "Llama" in message and "fallback" in message
    # An encoder-decoder model cannot give text features in any mode.
    t5 = tmp_path / "t5"
    transformers.AutoModel.from_config(
        transformers.T5Config(vocab_size=64, d_model=16, d_kv=4, d_ff=32, num_layers=1, num_heads=2)
    ).save_pretrained(t5)
    with pytest.raises(ConfigError, match="encoder-decoder"):
        check_backbone_mode(str(t5), "cached")


def test_cli_refuses_before_the_run_folder_exists(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from rec_core.cli import main

    directory = _funnel_dir(tmp_path / "funnel")
    capsys.readouterr()  # transformers' progress bar while saving the test model
    runs = tmp_path / "runs"
    code = main(
        [
            "train",
            "--runs-dir",
            str(runs),
            "--quiet",
            "--epochs",
            "1",
            "--dataset",
            "synthetic",
            "--synthetic-users",
            "60",
            "--synthetic-items",
            "40",
            "--model",
            "enhanced",
            "--backbone",
            str(directory),
            "--use-cache",
            "false",
            "--use-peft",
            "true",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: backbone:") and "Traceback" not in err, err
    assert "dynamic LoRA mode" in lines[0] and "Supported:" in lines[0]
    assert not runs.exists() or not any(runs.iterdir())


@pytest.mark.parametrize("missing", ["weights", "tokenizer", "config"])
def test_local_causal_lm_with_missing_files_fails_fast(
    missing: str, model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    import shutil

    directory = tmp_path / "llama"
    shutil.copytree(model_dirs["llama"], directory)
    patterns = {"weights": ("*.safetensors",), "tokenizer": ("tokenizer*",), "config": ("config.json",)}[missing]
    for pattern in patterns:
        for path in directory.glob(pattern):
            path.unlink()
    start = time.monotonic()
    with pytest.raises(BackboneUnavailable) as info:
        load_backbone(str(directory))
    assert time.monotonic() - start < 10
    assert str(directory) in str(info.value)
