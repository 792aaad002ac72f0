"""Every UI string and figure label of the app, in English and Simplified Chinese, in one place.

`t(key, lang, **fmt)` returns the string in `lang` ("en" or "zh"), formatted with `fmt`.
A missing key falls back to `default` if given, else to the key itself in brackets, and a
string that cannot be formatted with `fmt` is shown unformatted, so a forgotten translation is
visible in the page instead of crashing it. In strict mode ($REC_APP_STRICT_STRINGS=1, which
the tests set) both raise instead: `MissingString`, `StringFormatError`.

One table format: key -> (English, 简体中文), one table per part of the app: `common` (frame,
home, runs table, names), `train` (Train page, CSV upload, estimate, live panel), `compare`
(Compare page, exports, runs' figures), `analysis` (Attention, Embeddings, Error analysis) and
`report` (the defence report). They are merged here; a key defined twice is an error. Pure
data; no Streamlit.
"""
from __future__ import annotations

import math
import os

from rec_app.i18n import analysis, common, compare, report, train

__all__ = ["LANGS", "STRICT_ENV", "STRINGS", "MissingString", "StringFormatError", "strict", "t", "metric_label", "part_metric_label", "segment_label", "format_duration"]

LANGS: tuple[str, ...] = ("en", "zh")

# key -> (English, 简体中文)
STRINGS: dict[str, tuple[str, str]] = {}  # key -> (English, 简体中文), all tables merged below


STRICT_ENV = "REC_APP_STRICT_STRINGS"


class MissingString(KeyError):
    """Strict mode: `t` was asked for a key no table defines (and given no default)."""


class StringFormatError(ValueError):
    """Strict mode: a string could not be formatted with the values `t` was given."""


def strict() -> bool:
    """Whether `t` raises on a missing key or a format error ($REC_APP_STRICT_STRINGS set and not 0)."""
    return os.environ.get(STRICT_ENV, "").strip() not in ("", "0")


def t(key: str, lang: str = "en", default: str | None = None, **fmt: object) -> str:
    """The string `key` in `lang`, formatted with `fmt`; see the module docstring for misses."""
    pair = STRINGS.get(key)
    if pair is not None:
        text = pair[1] if lang == "zh" else pair[0]
    elif default is not None:
        text = default
    elif strict():
        raise MissingString(f"no string {key!r} in rec_app/i18n/*.py")
    else:
        return f"[{key}]"
    try:
        return text.format(**fmt)  # also without fmt: `{{` means a literal brace everywhere
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        if strict():
            raise StringFormatError(f"string {key!r} ({lang}) cannot be formatted with "
                                    f"{sorted(fmt) or 'no values'}: {type(exc).__name__}: {exc}") from exc
        return text


def metric_label(metric: str, lang: str = "en") -> str:
    """`ndcg@10` -> `NDCG@10` (en) / `NDCG@10` (zh); `hit@5` -> `Hit@5` / `命中率@5`."""
    base, _, k = metric.partition("@")
    name = t(f"metric.{base}", lang, default=base)
    return f"{name}@{k}" if k else name


def part_metric_label(metric: str, part: str, lang: str = "en") -> str:
    """`ndcg@10` on `test` -> `test NDCG@10` / `测试集 NDCG@10` (`valid`: validation): metric
    tables and axes say which split their numbers come from."""
    return t(f"metric.on_{part}", lang, metric=metric_label(metric, lang))


def segment_label(segment: str, lang: str = "en") -> str:
    """Readable name of an item or user segment (`tail`, `low`, ...)."""
    return t(f"segment.{segment}", lang, default=segment)


def format_duration(seconds: float | None, lang: str = "en") -> str:
    """`45 s`, `4 min 10 s`, `1 h 20 min` (or in Chinese); `–` when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    s = max(0, int(round(seconds)))
    if s < 60:
        return t("duration.s", lang, s=s)
    if s < 600:
        if s % 60 == 0:
            return t("duration.min", lang, m=s // 60)
        return t("duration.min_s", lang, m=s // 60, s=s % 60)
    if s < 3600:
        return t("duration.min", lang, m=int(round(s / 60)))
    return t("duration.h_min", lang, h=s // 3600, m=(s % 3600) // 60)


def _merge(*tables: dict[str, tuple[str, str]]) -> None:
    """Add the other tables (same format) to STRINGS; a key defined twice is an error."""
    for table in tables:
        for key, pair in table.items():
            if key in STRINGS:
                raise ValueError(f"string key {key!r} is defined twice in rec_app/i18n/*.py")
            STRINGS[key] = pair


# One table per part of the app (rec_app/i18n/<part>.py), merged so `t` finds every key.
_merge(common.STRINGS, train.STRINGS, compare.STRINGS, analysis.STRINGS, report.STRINGS)
