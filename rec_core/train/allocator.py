"""Keep freed tensor memory in the process: glibc's malloc, tuned for training loops.

A training step allocates and frees the same few dozen tensors of 0.1-10 MB every step. With
glibc's defaults, blocks above a (dynamic) threshold are mmap-ed and unmapped on every free,
and the heap's top is given back to the kernel whenever 2x that threshold is free: the next
step faults the same pages in again, zeroed by the kernel. On ML-100K that page traffic was
half of an MF epoch (0.103 s against 0.063 s with the tuning below, CPU time, one thread) and a
tenth to a quarter of a cached Enhanced one (bench/README.md, "Speed"). Fixing both thresholds
keeps blocks up to `MMAP_THRESHOLD` in the heap and up to `TRIM_THRESHOLD` of free heap mapped,
so a step reuses the previous step's pages. Peak memory is unchanged (the pages were needed at
the peak anyway); what stays mapped after a large free is bounded by `TRIM_THRESHOLD`.

Only glibc has `mallopt`; elsewhere (macOS, musl, Windows) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "keep_freed_memory"]

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# 32 MiB is glibc's largest mmap threshold on 64-bit systems (DEFAULT_MMAP_THRESHOLD_MAX):
# larger blocks (a catalogue's token states) are still mapped and unmapped as a whole.
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 256 << 20

_applied: bool | None = None  # None: not tried yet; else whether glibc accepted both


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds once per process; True when they are in force.

    Both are set together: setting either one turns off glibc's dynamic mmap threshold, and
    the trim threshold alone made every block above 128 KiB an mmap (3x slower MF epochs)."""
    global _applied
    if _applied is None:
        _applied = _mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and _mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    return _applied


def _mallopt(param: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(param, value))
