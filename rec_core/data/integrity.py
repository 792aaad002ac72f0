"""Is a built-in dataset's folder the published one? A truncated ratings file (cut at a line
boundary, so every line still parses) would otherwise load as that dataset, and its runs would
pass for runs on it.

Two checks, before loading: the files a `SHA256SUMS` file in the folder lists (`sha256sum`'s
format) must have those digests; the ratings file must hold the dataset's known number of
ratings (`KNOWN_SIZES`). After loading without a rating filter, the users and items rated must
be the known numbers too. A dataset whose sizes are not known is not size-checked.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rec_core.data.download import sha256_of
from rec_core.data.sizes import KNOWN_SIZES
from rec_core.errors import DataError

__all__ = ["CHECKSUMS_FILE", "RATINGS_FILES", "check_dataset_folder", "check_loaded_sizes"]

CHECKSUMS_FILE = "SHA256SUMS"
# The ratings file of each built-in dataset and its header lines.
RATINGS_FILES: dict[str, tuple[str, int]] = {
    "ml-100k": ("u.data", 0),
    "ml-1m": ("ratings.dat", 0),
    "ml-10m": ("ratings.dat", 0),
    "ml-20m": ("ratings.csv", 1),
}
_SUM_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


def _count_lines(path: Path) -> int:
    """Lines of a text file (a last line without its newline counts too)."""
    count, last = 0, b"\n"
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


def _redownload(name: str, folder: Path) -> str:
    return f"delete {folder} and load {name} again to download it, or load your own file as a csv dataset"


def check_dataset_folder(name: str, folder: Path) -> None:
    """DataError naming the file when `folder` is not the published `name` (module docstring)."""
    sums = folder / CHECKSUMS_FILE
    if sums.is_file():
        for line in sums.read_text(encoding="utf-8", errors="replace").splitlines():
            match = _SUM_LINE.match(line.strip())
            if match is None:
                continue
            expected, file_name = match.group(1).lower(), match.group(2).strip()
            path = folder / file_name
            if path.is_file() and sha256_of(path) != expected:
                raise DataError(
                    file_name,
                    f"{path} does not match {sums}: SHA256 {sha256_of(path)[:12]}..., expected {expected[:12]}... "
                    f"(a damaged or truncated copy; {_redownload(name, folder)})",
                )
    size = KNOWN_SIZES.get(name)
    if size is None or name not in RATINGS_FILES:
        return
    file_name, header = RATINGS_FILES[name]
    path = folder / file_name
    if not path.is_file():
        return  # the loader names the missing file
    ratings = max(_count_lines(path) - header, 0)
    if ratings != size.n_interactions:
        raise DataError(
            file_name,
            f"{path} holds {ratings:,} ratings, but {name} has {size.n_interactions:,} (of {size.n_users:,} users "
            f"and {size.n_items:,} items): the file is truncated or not {name}'s; {_redownload(name, folder)}",
        )


def check_loaded_sizes(name: str, folder: Path, data: Any, min_rating: float | None) -> None:
    """DataError when `data`, loaded from `folder` without a rating filter, rates other numbers of
    users or items than `name` has (a filter drops some on purpose: then nothing is checked)."""
    size = KNOWN_SIZES.get(name)
    if size is None or min_rating is not None or name not in RATINGS_FILES:
        return
    if (data.n_users, data.n_items) != (size.n_users, size.n_items):
        file_name = RATINGS_FILES[name][0]
        raise DataError(
            file_name,
            f"{folder / file_name} rates {data.n_users:,} users and {data.n_items:,} items, but {name} has "
            f"{size.n_users:,} and {size.n_items:,}: the file is not {name}'s; {_redownload(name, folder)}",
        )
