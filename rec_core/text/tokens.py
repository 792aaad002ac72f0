"""Readable token strings and the metadata field each token came from (for explain views).

Byte-level BPE tokens (GPT-2) are decoded to text: `ĠStory` becomes ` Story` (the leading
space is kept as a real space), `Ċ` becomes a newline, and a byte that is only part of a UTF-8
character is shown as the character it belongs to. WordPiece continuation pieces keep their
`##` prefix (`##ing`) so that a reader sees they continue the previous token. Special tokens
(`[CLS]`, `[SEP]`, `<|endoftext|>`) stay as they are and are labelled `special`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import Tensor
from transformers import PreTrainedTokenizerFast

from rec_core.data.interactions import TextTable

if TYPE_CHECKING:
    from rec_core.text.encoder import TextEncoder

__all__ = ["SPECIAL", "TEMPLATE", "content_mask", "field_of_token", "readable_tokens", "token_labels"]

SPECIAL = "special"  # field of tokens the tokenizer adds ([CLS], [SEP], end of text)
TEMPLATE = "template"  # field of template glue between fields ("Genres:", "(", ".")


def readable_tokens(
    tokenizer: PreTrainedTokenizerFast,
    raw_tokens: Sequence[str],
    text: str,
    offsets: Sequence[tuple[int, int]],
    special: Sequence[bool],
) -> list[str]:
    """Readable strings for the raw tokens of one text, aligned with `raw_tokens`.

    `offsets[i]` is the character range of token i in `text`; `special[i]` marks tokens the
    tokenizer added.
    """
    decoder = tokenizer.backend_tokenizer.decoder
    kind = type(decoder).__name__ if decoder is not None else ""
    prefix = getattr(decoder, "prefix", "##") if kind == "WordPiece" else ""
    out: list[str] = []
    for raw, (start, end), is_special in zip(raw_tokens, offsets, special):
        if is_special or decoder is None:
            out.append(raw)
        elif kind == "WordPiece":
            # The decoder would strip "##"; keeping it shows that the piece continues a word.
            out.append(raw if raw.startswith(prefix) else decoder.decode([raw]))
        else:
            shown = decoder.decode([raw])
            if "\ufffd" in shown and end > start:
                # Part of a multi-byte character: show the character from the text itself.
                shown = text[start:end]
            out.append(shown)
    return out


def field_of_token(table: TextTable, k: int, start: int, end: int, special: bool) -> str:
    """Field (title, year, genres, ...; `special`, `template`) of chars [start, end) of text k.

    A token such as GPT-2's ` Story` starts with the space before the word; that space is
    template glue, so the first non-space character decides.
    """
    if special:
        return SPECIAL
    text = table.texts[k]
    pos = start
    while pos < end and text[pos].isspace():
        pos += 1
    if pos == end:
        pos = start
    return table.field_of(k, pos) or TEMPLATE


def token_labels(encoder: TextEncoder, table: TextTable, k: int) -> list[tuple[str, str]]:
    """(readable token, field) for each non-padding token of text `k`, in position order.

    The tokens are exactly those `encoder.encode` sees (same tokenizer, same truncation to
    `max_length`), so entry i labels position i of `EncodedTexts.states[k]` and of any
    attention over those states.
    """
    if not 0 <= k < len(table):
        raise IndexError(f"text index {k} outside [0, {len(table)})")
    batch = encoder.tokenize([table.texts[k]])
    n = int(batch.attention_mask[0].sum())
    labels: list[tuple[str, str]] = []
    for i in range(n):
        start, end = (int(v) for v in batch.offsets[0, i])
        field = field_of_token(table, k, start, end, bool(batch.special[0, i]))
        labels.append((batch.tokens[0][i], field))
    return labels


def content_mask(encoder: TextEncoder, table: TextTable, width: int, chunk: int = 256) -> Tensor:
    """(n, width) bool: True on the tokens of each text that come from a field value (title,
    genres, age, ...), False on special tokens, template glue ("Genres:", "year", "old") and
    padding; positions as in `EncodedTexts.states`. A text with no content token keeps all its
    real tokens (nothing left to attend to otherwise)."""
    out = torch.zeros(len(table), width, dtype=torch.bool)
    for a in range(0, len(table), chunk):
        batch = encoder.tokenize(list(table.texts[a : a + chunk]))
        for r in range(batch.input_ids.shape[0]):
            k = a + r
            n = min(int(batch.attention_mask[r].sum()), width)
            for i in range(n):
                start, end = (int(v) for v in batch.offsets[r, i])
                field = field_of_token(table, k, start, end, bool(batch.special[r, i]))
                out[k, i] = field not in (SPECIAL, TEMPLATE)
            if not bool(out[k].any()):
                out[k, :n] = True
    return out
