"""token_labels: readable token strings labelled with the field they came from."""

from __future__ import annotations

import pytest

from rec_core.data.interactions import TextTable
from rec_core.text import MINILM, SPECIAL, TEMPLATE, TINY_GPT2, TextEncoder, TextEncoderConfig
from rec_core.text.tokens import token_labels

TEXT = "Toy Story (1995). Genres: Animation, Children's, Comedy."
SPANS = (("title", 0, 9), ("year", 11, 15), ("genres", 26, 55))
TABLE = TextTable(
    texts=(TEXT, "Age: 24. Gender: M.\nOccupation: technician."),
    spans=(SPANS, (("age", 5, 7), ("gender", 17, 18), ("occupation", 32, 42))),
)


@pytest.fixture(scope="module", params=[TINY_GPT2, MINILM])
def encoder(request: pytest.FixtureRequest) -> TextEncoder:
    return TextEncoder(TextEncoderConfig(backbone=request.param, max_length=64))


def _fields_of(labels: list[tuple[str, str]], field: str) -> str:
    return "".join(token for token, f in labels if f == field).replace("##", "")


def test_tokens_are_labelled_with_their_fields(encoder: TextEncoder) -> None:
    labels = token_labels(encoder, TABLE, 0)
    assert labels == encoder.token_labels(TABLE, 0)
    assert len(labels) == int(encoder.tokenize([TEXT]).attention_mask.sum())
    assert _fields_of(labels, "title").replace(" ", "").lower() == "toystory"
    assert _fields_of(labels, "year") == "1995"
    genres = _fields_of(labels, "genres").replace(" ", "").lower()
    assert genres == "animation,children's,comedy"
    template = _fields_of(labels, TEMPLATE).replace(" ", "").lower()
    assert "genres:" in template and "(" in template
    if encoder.backbone.kind == "encoder":  # [CLS] ... [SEP]
        assert labels[0] == ("[CLS]", SPECIAL) and labels[-1] == ("[SEP]", SPECIAL)
    else:  # GPT-2 adds no special tokens; byte-level Ġ is shown as a real space
        assert SPECIAL not in {f for _, f in labels}
        assert all("Ġ" not in token for token, _ in labels)
        assert "".join(token for token, _ in labels) == TEXT


def test_user_text_fields_and_newline(encoder: TextEncoder) -> None:
    labels = token_labels(encoder, TABLE, 1)
    assert _fields_of(labels, "age").strip() == "24"
    assert _fields_of(labels, "gender").strip().lower() == "m"
    assert _fields_of(labels, "occupation").replace(" ", "").lower() == "technician"
    if encoder.backbone.kind == "causal":
        assert any("\n" in token for token, _ in labels), "Ċ is rendered as a newline"
        assert all("Ċ" not in token for token, _ in labels)


def test_labels_follow_truncation_and_special_cases() -> None:
    short = TextEncoder(TextEncoderConfig(backbone=MINILM, max_length=4))
    labels = token_labels(short, TABLE, 0)
    assert [f for _, f in labels] == [SPECIAL, "title", "title", SPECIAL]
    tiny = TextEncoder(TextEncoderConfig(backbone=TINY_GPT2))
    empty = TextTable(texts=("", "Amélie"), spans=((), (("title", 0, 6),)))
    assert token_labels(tiny, empty, 0) == [("<|endoftext|>", SPECIAL)]
    shown = token_labels(tiny, empty, 1)
    assert "\ufffd" not in "".join(t for t, _ in shown)  # split UTF-8 bytes shown as "é"
    assert {f for _, f in shown} == {"title"}
    with pytest.raises(IndexError):
        token_labels(tiny, empty, 2)


def test_wordpiece_continuations_keep_their_marker() -> None:
    minilm = TextEncoder(TextEncoderConfig(backbone=MINILM))
    table = TextTable(texts=("GoldenEye (1995)",), spans=((("title", 0, 9), ("year", 11, 15)),))
    labels = token_labels(minilm, table, 0)
    assert ("##eye", "title") in labels
