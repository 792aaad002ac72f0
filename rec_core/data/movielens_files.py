"""Reading GroupLens' MovieLens files: decoding, splitting rows, the ratings fast path.

Text decoding (latin-1, or UTF-8 when valid), `sep`-separated rows with a fixed field count,
integer fields, and ratings files read by pandas' C parser (`::` as two `:` separators) with a
slow line-by-line diagnosis only when parsing fails. Every malformed file raises DataError
naming the file and line. The loaders built on these are in `rec_core.data.movielens`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rec_core.errors import DataError

__all__ = ["decode", "read_lines", "split_rows", "as_int", "read_ratings", "diagnose_ratings", "RATING_NAMES"]


def decode(data: bytes) -> str:
    """UTF-8 text if the bytes are valid UTF-8 (BOM dropped), else latin-1 (which decodes any byte).

    ML-100K and ML-1M are latin-1, ML-20M is UTF-8, ML-10M's movies.dat may be either: a latin-1
    accent followed by ASCII (byte E9 then "r" in "Misérables") is never valid UTF-8, so the guess is safe.
    """
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_lines(path: Path, encoding: str = "latin-1") -> list[tuple[int, str]]:
    """Non-blank (line number, line) pairs of a text file; DataError if it is missing.

    `encoding` "latin-1" (GroupLens' ML-100K/ML-1M files: "Misérables"; decodes any byte, so no
    error here) or "auto" (UTF-8 when valid, else latin-1).
    """
    if not path.is_file():
        raise DataError(str(path), "file is missing")
    data = path.read_bytes()
    text = decode(data) if encoding == "auto" else data.decode(encoding)
    return [(k, line) for k, line in enumerate(text.splitlines(), start=1) if line.strip()]


def split_rows(
    path: Path,
    sep: str,
    names: tuple[str, ...],
    encoding: str = "latin-1",
    skip_lines: int = 0,
) -> list[tuple[int, list[str]]]:
    """(line number, fields) per row, each with exactly len(names) fields; the first `skip_lines`
    lines (a header) are not rows."""
    rows = []
    for k, line in read_lines(path, encoding):
        if k <= skip_lines:
            continue
        fields = line.split(sep)
        if len(fields) != len(names):
            raise DataError(
                str(path),
                f"line {k}: expected {len(names)} {sep!r}-separated fields "
                f"({', '.join(names)}), found {len(fields)}; is the file truncated or of another format?",
            )
        rows.append((k, fields))
    return rows


def as_int(path: Path, k: int, name: str, text: str) -> int:
    """`text` as an int; DataError naming line `k` and the field `name` if it is not one."""
    try:
        return int(text.strip())
    except ValueError:
        raise DataError(str(path), f"line {k}: {name} {text!r} is not an integer") from None


RATING_NAMES = ("user", "item", "rating", "timestamp")


def read_ratings(
    path: Path,
    sep: str,
    header: tuple[str, ...] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(users, items, ratings, timestamps) arrays of a ratings file; pandas C parser fast path.

    `header`: the column names the file's first line must hold (ML-20M's CSV), or None when the
    file has no header (the `.dat` and `u.data` files).
    """
    if not path.is_file():
        raise DataError(str(path), "file is missing")
    if path.stat().st_size == 0:
        raise DataError(str(path), "no interactions: the file is empty")
    skip = 0
    if header is not None:
        with path.open("rb") as handle:
            first = decode(handle.readline()).strip()
        if [f.strip() for f in first.split(sep)] != list(header):
            raise DataError(
                str(path),
                f"line 1: expected the header {sep.join(header)!r}, found {first[:80]!r}; is this the GroupLens file?",
            )
        skip = 1
    # "::" would force pandas' slow python engine; ":" is C-fast, with an empty field between
    # each pair of real ones. No usecols: it would silently ignore extra fields.
    single = sep if len(sep) == 1 else sep[0]
    n_raw = 4 if len(sep) == 1 else 7
    cols = [0, 1, 2, 3] if n_raw == 4 else [0, 2, 4, 6]
    try:
        frame = pd.read_csv(
            path,
            sep=single,
            header=None,
            names=list(range(n_raw)),
            index_col=False,
            dtype={cols[0]: np.int64, cols[1]: np.int64, cols[2]: np.float64, cols[3]: np.int64},
            engine="c",
            encoding="latin-1",
            skiprows=skip,
        )
    except Exception as exc:  # noqa: BLE001 - any parser failure is diagnosed line by line below
        diagnose_ratings(path, sep, skip)
        raise DataError(str(path), f"could not be parsed: {exc}") from None
    if n_raw == 7 and not frame[[1, 3, 5]].isna().all().all():
        diagnose_ratings(path, sep, skip)  # something sat between the two colons of a "::"
    if len(frame) == 0:
        raise DataError(str(path), "no interactions: the file has no rows")
    arrays = [frame[c].to_numpy() for c in cols]
    return arrays[0], arrays[1], arrays[2], arrays[3]


def diagnose_ratings(path: Path, sep: str, skip_lines: int = 0) -> None:
    """Raise DataError at the first malformed line of a ratings file (slow; errors only)."""
    for k, fields in split_rows(path, sep, RATING_NAMES, skip_lines=skip_lines):
        for name, text in zip(RATING_NAMES, fields):
            if name == "rating":
                try:
                    float(text)
                except ValueError:
                    raise DataError(str(path), f"line {k}: rating {text!r} is not a number") from None
            else:
                as_int(path, k, name if name == "timestamp" else f"{name} id", text)
    if len(read_lines(path)) <= skip_lines:
        raise DataError(str(path), "no interactions: the file has no rows")
