"""Render `{field}` templates into texts plus the character span of every substituted value.

`"{title} ({year}). Genres: {genres}."` with title "Toy Story", year 1995 and genres
["Animation", "Children's", "Comedy"] gives `"Toy Story (1995). Genres: Animation, Children's,
Comedy."` and spans `[("title", 0, 9), ("year", 11, 15), ("genres", 26, 55)]`.

A missing value (None, NaN, empty string or list) is dropped together with the glue that only
made sense around it, so no "None" and no "()" reach the text. The rules, applied to the
literal text on both sides of the dropped field (never to the values):
- a bracket pair around it goes: `"{title} ({year})."` -> `"Toy Story."`;
- a word glued to it goes: `"A {age}-year-old {gender}"` -> `"A male"`;
- a label ending in ":" goes up to the previous sentence or clause boundary:
  `"{title}. Genres: {genres}."` -> `"Toy Story."`;
- whitespace and punctuation at the seam collapse: `"aged {age}, {occupation}."` -> `"aged 18-24."`.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rec_core.data.interactions import TextTable
from rec_core.errors import ConfigError

__all__ = ["TextTemplate", "render_text_table", "format_value", "Span"]

Span = tuple[str, int, int]

_OPENERS = {"(": ")", "[": "]", "{": "}", '"': '"', "'": "'", "«": "»"}
_CLOSERS = set(")]}»")
_PUNCT = set(",.;:!?")
_SEPARATORS = set(",;:")
_GLUED_RIGHT = re.compile(r"^[\w'’\-/%]+")  # e.g. "-year-old" in "{age}-year-old"
_GLUED_LEFT = re.compile(r"[\w$#€£\-]+$")  # e.g. "$" in "${price}"
_BOUNDARY = re.compile(r"[.!?;,\n]")


@dataclass(frozen=True)
class _Field:
    name: str
    spec: str = ""  # format spec, e.g. ".1f"
    conversion: str | None = None  # "s", "r" or "a"


@dataclass(frozen=True)
class TextTemplate:
    """A parsed template: literals and fields alternating, starting and ending with a literal."""

    literals: tuple[str, ...]  # len(fields) + 1 literal pieces
    fields: tuple[_Field, ...]

    @classmethod
    def parse(cls, template: str, *, config_field: str = "template") -> TextTemplate:
        """The parsed `template`; ConfigError naming `config_field` if it does not parse."""
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError as exc:
            raise ConfigError(config_field, f"template {template!r} does not parse ({exc})") from None
        literals: list[str] = [""]
        fields: list[_Field] = []
        for literal, name, spec, conversion in parsed:
            literals[-1] += literal
            if name is None:
                continue
            if not name.strip():
                raise ConfigError(config_field, f"template {template!r} has an empty {{}}; name a column")
            # The name is a column name verbatim: no attribute or index lookup ("a.b" is a column).
            fields.append(_Field(name, spec or "", conversion))
            literals.append("")
        return cls(tuple(literals), tuple(fields))

    @classmethod
    def labelled(cls, columns: Sequence[str]) -> TextTemplate:
        """`"col: {col}. col2: {col2}."`, built directly so odd column names need no escaping."""
        if not columns:
            return cls(("",), ())
        literals = [f"{columns[0]}: "]
        for col in columns[1:]:
            literals.append(f". {col}: ")
        literals.append(".")
        return cls(tuple(literals), tuple(_Field(c) for c in columns))

    @property
    def field_names(self) -> tuple[str, ...]:
        """Names of the fields, in template order (repeats kept)."""
        return tuple(f.name for f in self.fields)

    def check_columns(self, available: Iterable[str], *, config_field: str) -> None:
        """ConfigError naming the template field and the available columns if one is unknown."""
        available = [str(c) for c in available]
        known = set(available)
        for name in self.field_names:
            if name not in known:
                raise ConfigError(
                    config_field,
                    f"template field {{{name}}} is not a column; available: {', '.join(available) or '(none)'}",
                )

    def render(self, values: Mapping[str, object]) -> tuple[str, tuple[Span, ...]]:
        """The text and one `(field, start, end)` span per substituted (non-missing) value."""
        out: list[str] = []
        spans: list[Span] = []
        length = 0  # characters written to `out` so far
        pending = self.literals[0]  # literal text not yet written, since the last kept value
        for k, fld in enumerate(self.fields):
            value = format_value(values.get(fld.name), fld.spec, fld.conversion)
            after = self.literals[k + 1]
            if value is None:
                at_end = all(
                    format_value(values.get(f.name), f.spec, f.conversion) is None for f in self.fields[k + 1 :]
                )
                pending = _bridge(pending, after, at_start=not out, at_end=at_end)
                continue
            out += [pending, value]
            start = length + len(pending)
            spans.append((fld.name, start, start + len(value)))
            length = start + len(value)
            pending = after
        if not out:
            # No value survived: template glue alone ("A.") says nothing about the entity.
            return (pending.strip() if not self.fields else ""), ()
        out.append(pending)
        return "".join(out), tuple(spans)


def format_value(value: object, spec: str = "", conversion: str | None = None) -> str | None:
    """The value as template text, or None when it is missing (None, NaN, NA, "", [])."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        parts = [format_value(v, spec, conversion) for v in list(value)]
        kept = [p for p in parts if p]
        return ", ".join(kept) if kept else None
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        # Integral floats come from nullable numeric columns (a year read as 1995.0).
        if not spec and float(value).is_integer():
            value = int(value)
    if isinstance(value, np.generic):
        value = value.item()
    if conversion == "r":
        value = repr(value)
    elif conversion == "a":
        value = ascii(value)
    try:
        text = format(value, spec) if spec else str(value)
    except (ValueError, TypeError):
        text = str(value)  # a spec that does not fit this value's type: plain text beats an error
    text = text.strip()
    return text or None


def _strip_leading(text: str) -> str:
    """Text at the very start loses leading whitespace and punctuation left from dropped fields."""
    return text.lstrip().lstrip("".join(_PUNCT)).lstrip()


def _bridge(left: str, right: str, *, at_start: bool, at_end: bool) -> str:
    """The literal that replaces `left + {missing field} + right` (see the module docstring)."""
    if left and right and left[-1] in _OPENERS and right[0] == _OPENERS[left[-1]]:
        left, right = left[:-1], right[1:]
    elif left and left[-1] in _OPENERS and right[:1] in _SEPARATORS:
        right = right[1:].lstrip()  # "({year}, {country})": keep the bracket, drop the comma
    else:
        glued = _GLUED_RIGHT.match(right)
        if glued:
            right = right[glued.end() :]
        glued = _GLUED_LEFT.search(left)
        if glued:
            left = left[: glued.start()]
    stripped = left.rstrip()
    if stripped.endswith(":"):
        # A label: drop it back to the previous boundary, keeping the boundary's punctuation.
        cuts = [m.end() for m in _BOUNDARY.finditer(stripped[:-1])]
        left = stripped[: cuts[-1]] if cuts else ""
        if left.rstrip()[-1:] in _PUNCT or (not left.strip() and at_start):
            rest = right.lstrip()
            if rest[:1] in _PUNCT:
                right = rest[1:]
    left_r, right_l = left.rstrip(), right.lstrip()
    had_space = left_r != left or right_l != right
    if left_r[-1:] in _SEPARATORS and right_l[:1] in _PUNCT:
        left_r = left_r[:-1].rstrip()  # ", ." -> "."   ", ," -> ","
    elif left_r[-1:] == "." and right_l[:1] == ".":
        right_l = right_l[1:]
    need_space = (
        had_space
        and (left_r != "" or not at_start)
        and (right_l != "" or not at_end)
        and right_l[:1] not in _CLOSERS | _PUNCT
        and left_r[-1:] not in _OPENERS
    )
    joined = left_r + (" " if need_space else "") + right_l
    if at_start:
        joined = _strip_leading(joined)
    if at_end:
        joined = joined.rstrip()
    return joined


def render_text_table(
    template: TextTemplate | str,
    table: pd.DataFrame,
    *,
    config_field: str = "template",
) -> TextTable:
    """One text per row of `table` (rows in order), with spans; fields are checked first."""
    if isinstance(template, str):
        template = TextTemplate.parse(template, config_field=config_field)
    template.check_columns(table.columns, config_field=config_field)
    names = list(dict.fromkeys(template.field_names))
    # Column-wise lists beat `to_dict("records")`: no per-row dict of unused columns.
    columns = [table[name].tolist() for name in names]
    texts: list[str] = []
    spans: list[tuple[Span, ...]] = []
    for row in zip(*columns) if names else ([()] * len(table)):
        text, row_spans = template.render(dict(zip(names, row)))
        texts.append(text)
        spans.append(row_spans)
    return TextTable(tuple(texts), tuple(spans))
