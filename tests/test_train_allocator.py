"""train/allocator.py: freed tensor memory stays mapped, so a training loop stops faulting pages in."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from rec_core.train import allocator

# In a fresh process: allocate a 16 MiB tensor, free it, and read glibc's own accounting
# (mallinfo2): how much of it was mmap-ed, and how much heap stays mapped after the free.
_ONE_BLOCK = textwrap.dedent(
    """
    import ctypes, sys
    import torch
    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    if sys.argv[1] == "tuned":
        from rec_core.train.allocator import keep_freed_memory
        assert keep_freed_memory()
    before = libc.mallinfo2()
    x = torch.ones(1 << 22)
    during = libc.mallinfo2()
    del x
    after = libc.mallinfo2()
    print(during.hblkhd - before.hblkhd, after.arena - before.arena)
    """
)


def _one_block(mode: str) -> tuple[int, int]:
    """(bytes mmap-ed for the block, bytes of heap still mapped after freeing it)."""
    out = subprocess.run([sys.executable, "-c", _ONE_BLOCK, mode], capture_output=True, text=True, check=True)
    mapped, kept = out.stdout.split()
    return int(mapped), int(kept)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's (Linux); a no-op elsewhere")
def test_tuned_process_keeps_freed_blocks_in_the_heap() -> None:
    block = 16 << 20
    mapped, kept = _one_block("plain")
    # glibc's defaults: the block is its own mapping, unmapped on free (faulted in again next step).
    assert mapped >= block and kept < block // 4, (mapped, kept)
    mapped, kept = _one_block("tuned")
    assert mapped == 0 and kept >= block * 0.95, (mapped, kept)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's (Linux); a no-op elsewhere")
def test_keep_freed_memory_is_applied_once_and_by_the_trainer(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []

    def fake(param: int, value: int) -> bool:
        calls.append((param, value))
        return True

    monkeypatch.setattr(allocator, "_applied", None)
    monkeypatch.setattr(allocator, "_mallopt", fake)
    assert allocator.keep_freed_memory() and allocator.keep_freed_memory()
    # Both thresholds, once: either alone turns off glibc's dynamic threshold (slower).
    assert calls == [(-3, allocator.MMAP_THRESHOLD), (-1, allocator.TRIM_THRESHOLD)]

    import torch

    from rec_core.data import DataConfig, load_dataset
    from rec_core.models.mf import MF, MFConfig
    from rec_core.split import SplitConfig, make_split
    from rec_core.train import TrainConfig, Trainer

    monkeypatch.setattr(allocator, "_applied", None)
    calls.clear()
    data = load_dataset(DataConfig(name="synthetic", synthetic_users=30, synthetic_items=100))
    split = make_split(data, SplitConfig(kind="ratio", seed=0))
    torch.manual_seed(0)
    Trainer(MF(data.n_users, data.n_items, MFConfig()), data, split, TrainConfig(epochs=0, device="cpu"))
    assert len(calls) == 2
