"""Several training processes for one run, through torch.distributed.

    torchrun --nproc_per_node 2 -m rec_core train --dataset ml-100k --model mf
    torchrun --nnodes 2 --node_rank 0 --master_addr HOST --master_port 29500 \
             --nproc_per_node 4 -m rec_core train ...

torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT; `init_from_env` joins
the process group (gloo on CPU, nccl when the run trains on CUDA). Then:

- training: every rank draws the same epoch permutation and negatives (same seed) and takes
  its own contiguous part of each global batch of `batch_size x world_size` triples (disjoint,
  covering the epoch); DistributedDataParallel averages the gradients, each rank's loss scaled
  by its share so that the step equals the single-process step on the global batch;
- evaluation: user chunks are dealt out to the ranks and the per-item statistics gathered, so
  every rank holds the same metrics as one process would compute;
- the run folder: rank 0 alone creates and writes it; the others learn the run from rank 0.

Outside torchrun (no WORLD_SIZE, or 1) nothing here does anything: `current()` is (0, 1).
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DistContext",
    "all_gather_objects",
    "any_rank",
    "broadcast_object",
    "current",
    "init_from_env",
    "is_main",
    "sum_floats",
]


@dataclass(frozen=True)
class DistContext:
    rank: int
    world_size: int
    local_rank: int
    backend: str


def _dist() -> Any:
    import torch.distributed as dist

    return dist


def _active() -> bool:
    if "WORLD_SIZE" not in os.environ and "RANK" not in os.environ:
        return False  # not launched by torchrun: do not even import torch.distributed
    dist = _dist()
    return bool(dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1)


def current() -> tuple[int, int]:
    """(rank, world size) of this process; (0, 1) outside a multi-process group."""
    if not _active():
        return 0, 1
    dist = _dist()
    return int(dist.get_rank()), int(dist.get_world_size())


def is_main() -> bool:
    return current()[0] == 0


def init_from_env(device: str = "auto", timeout_s: float = 600.0) -> DistContext | None:
    """Join the process group torchrun describes in the environment; None when WORLD_SIZE is
    unset or 1. The backend is nccl when the run will train on CUDA, gloo otherwise. A peer
    that dies makes the others' next collective fail (after at most `timeout_s`)."""
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world <= 1:
        return None
    import torch

    dist = _dist()
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available() and device in ("auto", "cuda")
    backend = "nccl" if cuda else "gloo"
    if not dist.is_initialized():
        if cuda:
            torch.cuda.set_device(local)
        dist.init_process_group(backend=backend, timeout=datetime.timedelta(seconds=timeout_s))
    return DistContext(rank, world, local, backend)


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """`obj` of rank `src` on every rank (itself outside a group)."""
    if not _active():
        return obj
    box = [obj]
    _dist().broadcast_object_list(box, src=src)
    return box[0]


def all_gather_objects(obj: Any) -> list[Any]:
    """Every rank's `obj`, in rank order ([obj] outside a group)."""
    if not _active():
        return [obj]
    out: list[Any] = [None] * current()[1]
    _dist().all_gather_object(out, obj)
    return out


def _tensor(values: list[float], dtype: Any) -> Any:
    """A tensor on the device the backend reduces on (nccl: the current GPU)."""
    import torch

    device = torch.device("cuda", torch.cuda.current_device()) if _dist().get_backend() == "nccl" else "cpu"
    return torch.tensor(values, dtype=dtype, device=device)


def any_rank(flag: bool) -> bool:
    """True on every rank when `flag` is True on any (a stop request, say)."""
    if not _active():
        return flag
    import torch

    t = _tensor([1 if flag else 0], torch.int64)
    _dist().all_reduce(t, op=_dist().ReduceOp.MAX)
    return bool(t.item())


def sum_floats(values: dict[str, float]) -> dict[str, float]:
    """Each value summed over the ranks (same keys on every rank)."""
    if not _active() or not values:
        return values
    import torch

    keys = sorted(values)
    t = _tensor([values[k] for k in keys], torch.float64)
    _dist().all_reduce(t)
    return dict(zip(keys, t.tolist()))
