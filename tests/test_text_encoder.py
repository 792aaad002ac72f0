"""TextEncoder: pooling, input order, split execution, gradients and a real embedding."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from rec_core.errors import ConfigError
from rec_core.text import MINILM, TINY_GPT2, TextEncoder, TextEncoderConfig, load_backbone
from tests.helpers import SAMPLE_TEXTS

TEXTS = SAMPLE_TEXTS


@pytest.fixture(scope="module")
def tiny() -> TextEncoder:
    return TextEncoder(TextEncoderConfig(backbone=TINY_GPT2, max_length=32, batch_size=2))


@pytest.fixture(scope="module")
def minilm() -> TextEncoder:
    return TextEncoder(TextEncoderConfig(backbone=MINILM, max_length=32, batch_size=4))


def _single(encoder: TextEncoder, text: str) -> torch.Tensor:
    """Last hidden states (T, H) of one text, unpadded."""
    batch = encoder.tokenize([text])
    with torch.no_grad():
        return encoder.forward_states(batch.input_ids, batch.attention_mask)[0]


@pytest.mark.parametrize(
    "field, kwargs",
    [
        ("max_length", {"max_length": 0}),
        ("batch_size", {"batch_size": -1}),
        ("pooling", {"pooling": "max"}),
        ("backbone", {"backbone": ""}),
    ],
)
def test_config_rejects_bad_values(field: str, kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as info:
        TextEncoderConfig(**kwargs)  # type: ignore[arg-type]  # bad values on purpose
    assert info.value.field == field


def test_encoder_checks_backbone_name_and_positions() -> None:
    backbone = load_backbone(TINY_GPT2)
    with pytest.raises(ConfigError, match="backbone"):
        TextEncoder(TextEncoderConfig(backbone=MINILM), backbone)
    with pytest.raises(ConfigError, match="max_length"):
        TextEncoder(TextEncoderConfig(backbone=TINY_GPT2, max_length=10_000), backbone)


def test_last_pooling_picks_last_real_token(tiny: TextEncoder) -> None:
    assert tiny.pooling == "last"
    out = tiny.encode(TEXTS)
    for i, text in enumerate(TEXTS):
        torch.testing.assert_close(out.pooled[i], _single(tiny, text)[-1], atol=1e-5, rtol=0)
    batch = tiny.tokenize(TEXTS)  # one padded batch, through forward() with gradients
    pooled = tiny(batch.input_ids, batch.attention_mask)
    torch.testing.assert_close(pooled.detach(), out.pooled, atol=1e-5, rtol=0)


def test_pool_ignores_padding_for_either_side() -> None:
    encoder = TextEncoder(TextEncoderConfig(backbone=TINY_GPT2, pooling="mean"))
    states = torch.randn(2, 4, 3)
    mask = torch.tensor([[1, 1, 0, 0], [0, 1, 1, 1]])
    garbage = states.clone()
    garbage[mask == 0] = 1e6
    torch.testing.assert_close(encoder.pool(garbage, mask), torch.stack([states[0, :2].mean(0), states[1, 1:].mean(0)]))
    last = TextEncoder(TextEncoderConfig(backbone=TINY_GPT2, pooling="last"))
    torch.testing.assert_close(last.pool(garbage, mask), torch.stack([states[0, 1], states[1, 3]]))


def test_mean_pooling_equals_unpadded_mean(minilm: TextEncoder) -> None:
    assert minilm.pooling == "mean"
    out = minilm.encode(TEXTS)
    for i, text in enumerate(TEXTS):
        torch.testing.assert_close(out.pooled[i], _single(minilm, text).mean(0), atol=1e-5, rtol=0)


def test_sorted_batches_come_back_in_input_order(tiny: TextEncoder) -> None:
    out = tiny.encode(TEXTS)
    batch = tiny.tokenize(TEXTS, pad_to_max_length=True)
    assert out.states is not None and out.states.shape == (len(TEXTS), 32, 64)
    assert torch.equal(out.mask, batch.attention_mask.bool())
    assert torch.equal(out.input_ids, batch.input_ids)
    assert out.lengths[3] == 1, "the empty text gets one end-of-text token"
    assert tiny.tokenize(TEXTS, readable=False).tokens == ()
    assert [len(t) for t in batch.tokens] == out.lengths.tolist()
    for i, text in enumerate(TEXTS):
        n = int(out.lengths[i])
        torch.testing.assert_close(out.states[i, :n], _single(tiny, text), atol=1e-5, rtol=0)
        assert torch.all(out.states[i, n:] == 0)
    reversed_out = tiny.encode(TEXTS[::-1])
    torch.testing.assert_close(reversed_out.pooled.flip(0), out.pooled, atol=1e-6, rtol=0)


def test_encode_output_is_usable_by_autograd_and_keeps_mode(tiny: TextEncoder) -> None:
    tiny.train()
    tiny.model.h[0].eval()  # e.g. a frozen block inside a model that trains
    out = tiny.encode(TEXTS[:2])
    assert tiny.training and tiny.model.training, "encode must restore the training mode"
    assert not tiny.model.h[0].training
    tiny.eval()
    weight = torch.randn(64, 3, requires_grad=True)
    (out.pooled @ weight).sum().backward()  # fails on inference-mode tensors
    assert weight.grad is not None and out.pooled.dtype == torch.float32
    assert torch.isfinite(out.pooled).all()


@pytest.mark.parametrize("name, ks", [(TINY_GPT2, (1, 2)), (MINILM, (1, 6))])
def test_split_execution_equals_full_forward(name: str, ks: tuple[int, ...], request: pytest.FixtureRequest) -> None:
    encoder: TextEncoder = request.getfixturevalue("tiny" if name == TINY_GPT2 else "minilm")
    for k in ks:
        out = encoder.encode(TEXTS, keep_layer_input=k)
        assert out.layer_states is not None and out.top_layers == k and out.states is not None
        states = encoder.run_top_layers(out.layer_states, out.mask, k)
        assert states.requires_grad
        mask = out.mask
        torch.testing.assert_close(states.detach()[mask], out.states[mask], atol=1e-5, rtol=0)
        torch.testing.assert_close(encoder.pool(states.detach(), mask), out.pooled, atol=1e-5, rtol=0)
        trimmed = out.trimmed()  # cutting trailing padding changes nothing for real tokens
        short = encoder.run_top_layers(trimmed.layer_states, trimmed.mask, k).detach()
        torch.testing.assert_close(short[trimmed.mask], out.states[mask], atol=1e-5, rtol=0)


def test_top_layers_get_gradients_lower_layers_do_not(tiny: TextEncoder) -> None:
    out = tiny.encode(TEXTS, keep_layer_input=1)
    tiny.zero_grad(set_to_none=True)
    states = tiny.run_top_layers(out.layer_states, out.mask, 1)
    tiny.pool(states, out.mask).sum().backward()
    blocks = tiny.model.h
    assert all(p.grad is not None for p in blocks[1].parameters())
    assert all(p.grad is None for p in blocks[0].parameters())
    assert tiny.model.wte.weight.grad is None
    tiny.zero_grad(set_to_none=True)


def test_identity_follows_weight_changes() -> None:
    encoder = TextEncoder(TextEncoderConfig(backbone=TINY_GPT2))
    assert encoder.identity == encoder.backbone.identity
    encoder.encode(TEXTS[:2])
    assert encoder.identity == encoder.backbone.identity
    optimizer = torch.optim.SGD(encoder.parameters(), lr=0.1)
    batch = encoder.tokenize(TEXTS[:2])
    encoder(batch.input_ids, batch.attention_mask).sum().backward()
    optimizer.step()
    changed = encoder.identity
    assert changed != encoder.backbone.identity and changed == encoder.identity
    # A new encoder on the same (now trained) backbone must not claim the pristine identity.
    again = TextEncoder(TextEncoderConfig(backbone=TINY_GPT2), encoder.backbone)
    assert again.identity == changed


def test_minilm_gives_a_semantic_embedding(minilm: TextEncoder) -> None:
    vectors = minilm.encode(
        ["a funny cartoon for children", "animated comedy for kids", "a brutal war documentary"], keep_states=False
    ).pooled
    assert minilm.encode(["x"], keep_states=False).states is None
    close = F.cosine_similarity(vectors[0], vectors[1], dim=0)
    far = F.cosine_similarity(vectors[0], vectors[2], dim=0)
    assert close > far + 0.1


def test_bf16_autocast_runs_on_cpu_and_stays_close_to_fp32() -> None:
    # The GPU's mixed-precision path, exercised on CPU: encoding and the dynamic top blocks run
    # under bf16 autocast, return float32, and agree with fp32 to bf16's precision.
    texts = ["A Star Is Born (1937)", "Toy Story (1995) Animation|Children's|Comedy", "x"]
    fp32 = TextEncoder(TextEncoderConfig("tiny-gpt2", max_length=16, precision="fp32"))
    bf16 = TextEncoder(TextEncoderConfig("tiny-gpt2", max_length=16, precision="bf16"))
    bf16.model.load_state_dict(fp32.model.state_dict())
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16")
    assert TextEncoder(TextEncoderConfig("tiny-gpt2", max_length=16)).precision == "fp32"  # auto on CPU
    a, b = fp32.encode(texts, keep_layer_input=1), bf16.encode(texts, keep_layer_input=1)
    assert b.pooled.dtype == torch.float32 and not torch.equal(a.pooled, b.pooled)
    torch.testing.assert_close(b.pooled, a.pooled, rtol=0.05, atol=0.05)
    mask = a.mask.long()
    top = bf16.run_top_layers(a.layer_states, mask, 1)
    assert top.dtype == torch.float32
    torch.testing.assert_close(top, fp32.run_top_layers(a.layer_states, mask, 1), rtol=0.05, atol=0.05)
    with pytest.raises(ConfigError, match="precision"):
        TextEncoderConfig("tiny-gpt2", precision="fp16")  # type: ignore[arg-type]  # refused on purpose
