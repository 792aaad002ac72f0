"""Safetensors files read as memory maps and written a block of rows at a time.

The format is safetensors' own (8-byte little-endian header length, a JSON header naming each
tensor's dtype, shape and byte range, then the bytes), so files written by
`safetensors.torch.save_file` and by `RowWriter` read the same way. `map_tensors` maps each
tensor with `numpy.memmap` (copy-on-write): nothing is read until a row is touched, and the
pages read are the kernel's page cache, which it can drop under pressure, not a private copy.
That does not depend on the installed safetensors version (some read whole tensors).

`RowWriter` lets a caller fill an (N, ...) tensor in blocks of rows, in any row order, without
ever holding the whole of it: the feature cache writes a catalogue's token states this way.
`file_sha256` hashes the stored tensors the way `cache._tensors_sha256` hashes tensors in
memory, reading the file a block at a time.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rec_core.errors import RecCoreError
from rec_core.runs.tensor_file import header_bytes, layout

__all__ = ["NoSpaceForFile", "RowWriter", "file_sha256", "map_tensors", "mapped_path", "patch_metadata", "read_header"]

# safetensors dtype names <-> numpy and torch dtypes (what the feature cache stores).
_NUMPY = {
    "F32": np.float32,
    "F16": np.float16,
    "F64": np.float64,
    "I64": np.int64,
    "I32": np.int32,
    "I16": np.int16,
    "I8": np.int8,
    "U8": np.uint8,
    "BOOL": np.bool_,
}
_TORCH = {
    "F32": torch.float32,
    "F16": torch.float16,
    "F64": torch.float64,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
_MAX_HEADER = 100 << 20  # safetensors' own limit
_BLOCK = 8 << 20  # bytes read at a time when hashing


def read_header(path: Path) -> tuple[int, dict[str, str], dict[str, dict[str, Any]]]:
    """(offset of the data, metadata, tensor entries) of a safetensors file; ValueError if the
    header is malformed or names bytes past the end of the file."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise ValueError("shorter than a safetensors header")
        n = int.from_bytes(head, "little")
        if not 0 < n <= min(_MAX_HEADER, size - 8):
            raise ValueError(f"header length {n} does not fit the file ({size} bytes)")
        header = json.loads(f.read(n))
    if not isinstance(header, dict):
        raise ValueError("header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    start = 8 + n
    for name, entry in header.items():
        dtype, shape, (begin, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in _NUMPY:
            raise ValueError(f"{name}: dtype {dtype} is not one the feature cache stores")
        if end - begin != math.prod(shape) * np.dtype(_NUMPY[dtype]).itemsize or start + end > size:
            raise ValueError(f"{name}: byte range {begin}..{end} does not match its shape or the file")
    return start, meta, header


def map_tensors(path: Path) -> tuple[dict[str, str], dict[str, Tensor]]:
    """(metadata, tensors) of a safetensors file, each tensor a copy-on-write memory map."""
    start, meta, header = read_header(path)
    tensors = {}
    for name, entry in header.items():
        shape = tuple(int(s) for s in entry["shape"])
        if math.prod(shape) == 0:  # numpy cannot map zero bytes
            tensors[name] = torch.zeros(shape, dtype=_TORCH[entry["dtype"]])
            continue
        array = np.memmap(
            path, dtype=_NUMPY[entry["dtype"]], mode="c", offset=start + int(entry["data_offsets"][0]), shape=shape
        )
        tensors[name] = torch.from_numpy(array)  # shares the map; keeps it alive
    return meta, tensors


def file_sha256(path: Path) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of the file's tensors, in name order:
    equal to `cache._tensors_sha256` of the same tensors in memory, read a block at a time
    (plain reads: the page cache, not this process's memory, holds what was read)."""
    start, _, header = read_header(path)
    digest = hashlib.sha256()
    buffer = memoryview(bytearray(_BLOCK))  # one reused buffer
    with open(path, "rb", buffering=0) as f:
        for name in sorted(header):
            entry = header[name]
            shape = tuple(int(s) for s in entry["shape"])
            digest.update(f"{name}|{_TORCH[entry['dtype']]}|{shape}|".encode())
            begin, end = (int(x) for x in entry["data_offsets"])
            f.seek(start + begin)
            left = end - begin
            while left:
                got = f.readinto(buffer[: min(_BLOCK, left)])
                if not got:
                    raise ValueError(f"{name}: file ends inside its bytes")
                digest.update(buffer[:got])
                left -= got
    return digest.hexdigest()


def mapped_path(tensor: Tensor) -> str | None:
    """The file whose memory map holds `tensor`'s data (psutil's memory maps of this process),
    else None: how a test tells a file-backed tensor from a copy in this process's memory."""
    import psutil

    address = tensor.data_ptr()
    try:
        maps = psutil.Process().memory_maps(grouped=False)
    except (psutil.Error, AttributeError, NotImplementedError):  # no per-map addresses here
        return None
    for region in maps:
        low, high = (int(x, 16) for x in region.addr.split("-"))
        if low <= address < high:
            return region.path if region.path.startswith("/") else None
    return None


def patch_metadata(path: Path, **values: str) -> None:
    """Replace metadata values in a safetensors header in place; each new value must have the
    length of the one it replaces (the header's size and the data's offsets stay as they are)."""
    with open(path, "r+b") as f:
        n = int.from_bytes(f.read(8), "little")
        raw = f.read(n)
        header = json.loads(raw)
        meta = header["__metadata__"]
        for name, value in values.items():
            if len(value) != len(meta[name]):
                raise ValueError(f"metadata {name!r}: a new value must keep its length")
            meta[name] = value
        new = json.dumps(header, separators=(",", ":")).encode()
        if len(new) > n:  # pragma: no cover - equal lengths keep the JSON's length
            raise ValueError("the patched header is longer than the original")
        f.seek(8)
        f.write(new + b" " * (n - len(new)))


class NoSpaceForFile(RecCoreError, OSError):
    """The disk has no room for a file about to be written through a memory map."""


def _reserve(fd: int, size: int, path: Path) -> None:
    """Allocate the disk blocks of a `size`-byte file now. A file that `truncate` only sized is
    sparse: writing its pages through a memory map on a full disk kills the process with
    SIGBUS (exit 135, nothing said). posix_fallocate fails instead, with the cause; where the
    filesystem cannot allocate ahead, the free space is checked instead."""
    try:
        os.posix_fallocate(fd, 0, size)
        return
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise NoSpaceForFile(_no_space(path, size)) from None
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise
    except AttributeError:  # no posix_fallocate on this platform (macOS)
        pass
    if shutil.disk_usage(path.parent).free < size:
        raise NoSpaceForFile(_no_space(path, size))


def _no_space(path: Path, size: int) -> str:
    try:
        free = f"{shutil.disk_usage(path.parent).free / 1e6:,.1f} MB free"
    except OSError:
        free = "free space unknown"
    return (
        f"no space left on device for {path.parent} ({size / 1e6:,.1f} MB needed, {free}): free some space "
        "or point REC_CORE_CACHE at a larger disk"
    )


class RowWriter:
    """A safetensors file whose tensors are laid out first and filled a block of rows at a time.

    `specs` maps each name to (torch dtype, shape). Tensors are placed as safetensors places
    them (larger item sizes first, then by name), so every tensor is aligned. Open it with
    `with RowWriter.create(path, specs, metadata) as w:` and write rows with `w.write(name,
    rows, values)`; rows never written stay zero. A metadata value known only afterwards (a
    checksum) is written as a placeholder and replaced by `patch_metadata`.
    """

    def __init__(
        self, path: Path, specs: dict[str, tuple[torch.dtype, tuple[int, ...]]], metadata: dict[str, str]
    ) -> None:
        self.path = path
        self.specs = specs
        self.metadata = dict(metadata)
        self.entries = layout(specs)
        self.data_bytes = sum(e["data_offsets"][1] - e["data_offsets"][0] for e in self.entries.values())
        self.header = header_bytes(self.metadata, self.entries)
        self._maps: dict[str, np.memmap] = {}

    @classmethod
    @contextmanager
    def create(
        cls, path: Path, specs: dict[str, tuple[torch.dtype, tuple[int, ...]]], metadata: dict[str, str]
    ) -> Iterator[RowWriter]:
        writer = cls(path, specs, metadata)
        with open(path, "wb") as f:
            f.write(len(writer.header).to_bytes(8, "little"))
            f.write(writer.header)
            f.truncate(8 + len(writer.header) + writer.data_bytes)
            _reserve(f.fileno(), 8 + len(writer.header) + writer.data_bytes, path)
        try:
            yield writer
        finally:
            for array in writer._maps.values():
                array.flush()
            writer._maps.clear()

    def write(self, name: str, rows: Tensor | slice, values: Tensor) -> None:
        """Store `values` as rows `rows` (indices or a slice) of tensor `name`."""
        dtype, shape = self.specs[name]
        if math.prod(shape) == 0:
            return
        array = self._maps.get(name)
        if array is None:
            array = np.memmap(
                self.path,
                dtype=_NUMPY[self.entries[name]["dtype"]],
                mode="r+",
                offset=8 + len(self.header) + self.entries[name]["data_offsets"][0],
                shape=shape,
            )
            self._maps[name] = array
        index = rows.numpy() if isinstance(rows, Tensor) else rows
        array[index] = values.detach().to("cpu", dtype).numpy()
