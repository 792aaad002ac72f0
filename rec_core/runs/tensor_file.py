"""Safetensors files whose bytes depend only on their tensors and metadata.

`safetensors.torch.save_file` writes the metadata in the order of a Rust hash map, which is
seeded per process: two identical runs gave model files with different bytes, so the SHA-256
a run records could not be reproduced. `write_tensors` writes the same format with a canonical
header: metadata keys sorted, tensors placed as safetensors places them (larger item sizes
first, then by name, so every tensor stays aligned), compact JSON, the header padded with
spaces to 8 bytes. Any safetensors reader reads the file.

Imported lazily (it imports torch): the run store stays cheap to import.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

__all__ = ["DTYPE_NAMES", "header_bytes", "layout", "write_tensors"]

# torch dtypes -> safetensors dtype names (those a checkpoint or the feature cache can hold).
DTYPE_NAMES: dict[torch.dtype, str] = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.float64: "F64",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


def layout(specs: dict[str, tuple[torch.dtype, tuple[int, ...]]]) -> dict[str, dict[str, Any]]:
    """Header entries (dtype name, shape, byte range) of tensors `specs` (name -> (dtype,
    shape)), in the order their bytes follow the header."""
    entries: dict[str, dict[str, Any]] = {}
    offset = 0
    for name in sorted(specs, key=lambda k: (-specs[k][0].itemsize, k)):
        dtype, shape = specs[name]
        if dtype not in DTYPE_NAMES:
            raise ValueError(f"{name}: safetensors cannot store dtype {dtype}")
        nbytes = math.prod(shape) * dtype.itemsize
        entries[name] = {"dtype": DTYPE_NAMES[dtype], "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    return entries


def header_bytes(metadata: dict[str, str], entries: dict[str, dict[str, Any]]) -> bytes:
    """The JSON header (metadata first, then `entries` in their order), padded with spaces so
    the data starts 8-byte aligned, as safetensors does."""
    raw = json.dumps({"__metadata__": metadata, **entries}, separators=(",", ":")).encode()
    return raw + b" " * (-(8 + len(raw)) % 8)


def write_tensors(path: Path, tensors: dict[str, Tensor], metadata: dict[str, str]) -> None:
    """Write `tensors` and `metadata` (str -> str) to `path` as a safetensors file whose bytes
    are a function of them alone (see the module docstring)."""
    cpu = {k: t.detach().to("cpu").contiguous() for k, t in tensors.items()}
    entries = layout({k: (t.dtype, tuple(t.shape)) for k, t in cpu.items()})
    header = header_bytes({k: metadata[k] for k in sorted(metadata)}, entries)
    with open(path, "wb") as f:
        f.write(len(header).to_bytes(8, "little"))
        f.write(header)
        for name in entries:
            flat = cpu[name].reshape(-1)
            if flat.numel():  # the elements' bytes, little-endian as safetensors stores them
                f.write(flat.view(torch.uint8).numpy().tobytes())
