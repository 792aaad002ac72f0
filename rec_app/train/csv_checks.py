"""Checks of uploaded CSV files before anything is stored, in words for the page.

`read_header` says in one sentence why a file is not a CSV text file (an image or a workbook
renamed .csv, UTF-16 text, a first line that is not UTF-8, a header the csv module cannot
parse); `split_feasibility` runs the split's own rules (`rec_core.split.make_split`) on the
loaded data and counts the users and items that qualify, so a run never fails later with
"no user has enough interactions". Messages are i18n keys with their parameters.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rec_core.data.interactions import InteractionData

__all__ = ["CsvProblem", "Feasibility", "read_header", "text_problem", "file_identity", "split_feasibility"]

# Leading bytes of file types people upload by mistake, and what to call them.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"%PDF", "PDF"),
    (b"PK\x03\x04", "ZIP (.xlsx, .docx, .zip)"),
    (b"\xd0\xcf\x11\xe0", "Office (.xls, .doc)"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"SQLite format 3\x00", "SQLite"),
    (b"\x7fELF", "ELF"),
    (b"PAR1", "Parquet"),
)
_SNIFF = 65536  # bytes looked at


class CsvProblem(Exception):
    """A file that is not a usable CSV text file: `key` (i18n) and its format parameters."""

    def __init__(self, key: str, **params: Any) -> None:
        self.key, self.params = key, params
        super().__init__(f"{key} {params}")


def text_problem(data: bytes) -> CsvProblem | None:
    """Why `data` is not CSV text, if it clearly is not (binary, UTF-16, header not UTF-8)."""
    head = data[:_SNIFF]
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return CsvProblem("csv.binary_kind", kind=kind)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return CsvProblem("csv.utf16")
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    if b"\x00" in head or controls > max(8, len(head) // 20):
        return CsvProblem("csv.binary")
    first = head.split(b"\n", 1)[0]
    try:
        first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(first) - 3:  # not merely cut off inside a character at _SNIFF
            return CsvProblem("csv.not_utf8_header", byte=f"0x{first[exc.start]:02x}")
    return None


def read_header(data: bytes, sep: str) -> list[str]:
    """Column names of a CSV's first line ([] for an empty file); CsvProblem when the file is
    not CSV text. Only the first line is decoded strictly: the full validation reports a bad
    byte further down with its line number."""
    problem = text_problem(data)
    if problem is not None:
        raise problem
    text = data[:_SNIFF].decode("utf-8-sig", errors="replace")
    try:
        first = next(csv.reader(io.StringIO(text), delimiter=sep), [])
    except csv.Error as exc:
        raise CsvProblem("csv.unreadable", error=str(exc)) from None
    return [c.strip() for c in first if c.strip()]


def file_identity(name: str, data: bytes, sep: str) -> str:
    """Changes whenever another file (or the same under another separator) is uploaded."""
    import hashlib

    return hashlib.sha256(name.encode() + b"\0" + sep.encode() + b"\0" + data).hexdigest()[:16]


@dataclass(frozen=True)
class Feasibility:
    """What the split leaves to train and test on (counts over the whole dataset)."""

    split: str
    n_users: int
    n_items: int
    test_users: int  # users with at least one test interaction (they are evaluated)
    valid_users: int  # users with at least one validation interaction (early stopping)
    train_items: int  # items that occur in training
    test_items: int  # items among the test interactions (cold-items: the new-item shelf)


def split_feasibility(data: InteractionData, split: str, seed: int = 0) -> Feasibility:
    """Run the `split` split's own rules on `data` (DataError with the split's message when it
    cannot be made); the counts of what qualifies."""
    import numpy as np

    from rec_core.split import SplitConfig, make_split

    parts = make_split(data, SplitConfig(kind=split, seed=seed))  # type: ignore[arg-type]  # checked by SplitConfig

    def distinct(values: np.ndarray, rows: np.ndarray) -> int:
        return int(len(np.unique(values[rows])))

    return Feasibility(
        split=split,
        n_users=int(data.n_users),
        n_items=int(data.n_items),
        test_users=distinct(data.users, parts.test),
        valid_users=distinct(data.users, parts.valid),
        train_items=distinct(data.items, parts.train),
        test_items=distinct(data.items, parts.test),
    )
