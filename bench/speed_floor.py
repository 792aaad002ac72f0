"""The least a cached epoch's arithmetic costs on this core, and where its time goes (issue 25).

    REC_CORE_DATA=../shared/data python bench/speed.py --part floor --markdown

Issue 25 asks for every cached preset's epoch within 3x of MF's. For MF and each cached
configuration the app offers (`speed_common.cached_presets`), after a warm-up epoch:

- `macs_per_step`: the multiply-adds of every matrix product a training step dispatches,
  forward and backward (aten `mm`, `addmm`, `bmm`, `baddbmm`, which `linear`, `matmul` and
  `einsum` come down to), counted from their shapes by a dispatch mode over one epoch. MF's
  step has none: its scores are elementwise products and sums.
- `products_ms_per_step`: the time those same calls take inside the steps (each call timed
  around its kernel by the same mode), and the rate they reach there;
- `peak_gmacs`: this core's best rate on any one large product (the fastest of a few shapes,
  timed before and after the presets);
- the epoch's CPU seconds beside MF's, interleaved (`speed_common.interleaved`).

From them, the least an epoch of the same arithmetic can cost on this core:

    floor = MF's epoch + steps x macs_per_step / peak_gmacs

The Enhanced step holds MF's (its MF part: the same gathers, BPR and Adam over both ID tables)
and these products; the floor charges nothing else (softmax, LayerNorm, dropout draws, the loss,
Adam over the towers) and runs every product at the best rate this core reaches on one large
product, which the per-entity products (a 4 x 64 by 64 x 17 matrix per entity) are far from. A
floor above 3x MF means no implementation of the same arithmetic meets the target here; one
just under it leaves the rest of the step a few hundred microseconds.

Counting needs `torch.utils._python_dispatch.TorchDispatchMode`, torch's hook for seeing every
operator a computation dispatches (a private module, stable across the 2.x releases).
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from speed_common import cached_epoch, cached_presets, interleaved

_aten = torch.ops.aten
# The products a step dispatches, and the (left, right) operands of each: `mm`/`bmm` take them
# first, `addmm`/`baddbmm` after the tensor they add to.
_PRODUCTS = {_aten.mm: 0, _aten.bmm: 0, _aten.addmm: 1, _aten.baddbmm: 1}


def product_macs(func: Any, args: tuple[Any, ...]) -> int:
    """Multiply-adds of one aten product call (0 for any other operator): (n, k) x (k, m) costs
    n k m, and a batch of b such products b n k m."""
    first = _PRODUCTS.get(getattr(func, "overloadpacket", None))
    if first is None:
        return 0
    left, right = args[first], args[first + 1]
    return math.prod(left.shape) * right.shape[-1]


class ProductCounter(TorchDispatchMode):
    """Within `with`: how many operators were dispatched, and the multiply-adds and seconds of
    the matrix products among them (each product timed around its own kernel)."""

    def __init__(self) -> None:
        super().__init__()
        self.ops = 0
        self.macs = 0
        self.seconds = 0.0

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        self.ops += 1
        macs = product_macs(func, args)
        if not macs:
            return func(*args, **(kwargs or {}))
        t = time.perf_counter()
        out = func(*args, **(kwargs or {}))
        self.seconds += time.perf_counter() - t
        self.macs += macs
        return out


def peak_gmacs(
    shapes: tuple[tuple[int, int, int], ...] = ((1024, 1024, 1024), (2625, 384, 64), (4096, 256, 64)),
) -> float:
    """This core's best rate, in G multiply-adds a second, on one large product: the fastest of
    20 calls of each (n, k, m) shape, the best shape's: a square product, every ML-100K
    entity's pooled MiniLM text projected to 64 dims (the text models' largest product), and a
    tall narrow one."""
    best = 0.0
    for n, k, m in shapes:
        a, b = torch.randn(n, k), torch.randn(k, m)
        for _ in range(3):
            a @ b
        least = math.inf
        for _ in range(20):
            t = time.perf_counter()
            a @ b
            least = min(least, time.perf_counter() - t)
        best = max(best, n * k * m / least / 1e9)
    return best


def count_epoch(epoch: Callable[[], Any], steps: int) -> dict[str, float]:
    """Per step of one epoch run by `epoch`: operators dispatched, multiply-adds of the products
    and milliseconds spent in them."""
    with ProductCounter() as counter:
        epoch()
    return {
        "ops_per_step": counter.ops / steps,
        "macs_per_step": counter.macs / steps,
        "products_ms_per_step": 1e3 * counter.seconds / steps,
    }


def floor(rounds: int = 5) -> dict[str, Any]:
    """MF and every cached configuration (`cached_presets`): the epoch as run (CPU seconds,
    interleaved with MF's), its products counted and timed in the step, and the floor (module
    docstring); ratios to MF's epoch over the whole run."""
    from rec_core.data import DataConfig, load_dataset
    from rec_core.models.enhanced import GPT2RecommenderEnhanced
    from rec_core.models.mf import MF, MFConfig
    from rec_core.split import SplitConfig, make_split

    load_start = list(os.getloadavg())
    peak_start = peak_gmacs()
    data = load_dataset(DataConfig(name="ml-100k"))
    split = make_split(data, SplitConfig(kind="ratio", seed=0))

    torch.manual_seed(0)
    mf_epoch, steps = cached_epoch(MF(data.n_users, data.n_items, MFConfig()), data, split)
    out: dict[str, Any] = {"steps_per_epoch": steps, "mf": count_epoch(mf_epoch, steps)}
    rows: dict[str, dict[str, Any]] = {}
    for name, cfg in cached_presets().items():
        torch.manual_seed(0)
        epoch, _ = cached_epoch(GPT2RecommenderEnhanced(data.n_users, data.n_items, cfg, dataset=data), data, split)
        counted = count_epoch(epoch, steps)
        timed = interleaved({"mf": mf_epoch, name: epoch}, rounds)
        rows[name] = {
            **counted,
            "mf_epoch_cpu_s_same_rounds": timed["mf"]["cpu_median_s"],
            "epoch_cpu_s": timed[name]["cpu_median_s"],
        }
        del epoch
    # MF's epoch moves 10-30% between rounds here; every ratio divides by the median of its
    # per-preset medians over the whole run (each preset's own rounds' MF is kept beside it).
    mf_s = statistics.median(row["mf_epoch_cpu_s_same_rounds"] for row in rows.values())
    peak = max(peak_start, peak_gmacs())
    out.update({name: with_floor({**row, "mf_epoch_cpu_s": mf_s}, steps, peak) for name, row in rows.items()})
    out["peak_gmacs"] = peak
    out["peak_gmacs_start_end"] = [peak_start, peak]
    out["load_average_at_start"] = load_start
    return out


def with_floor(row: dict[str, Any], steps: int, peak: float) -> dict[str, Any]:
    """`row` (a preset's counted products and the CPU seconds of its and MF's epoch) with the
    floor, both ratios to MF's epoch, the rate its products reached in the step and what the
    step spends outside them beyond MF's whole step (ms per step)."""
    mf_s, epoch_s, macs, products_ms = (
        row["mf_epoch_cpu_s"],
        row["epoch_cpu_s"],
        row["macs_per_step"],
        row["products_ms_per_step"],
    )
    floor_s = mf_s + steps * macs / (peak * 1e9)
    return {
        **row,
        "products_gmacs_in_step": macs / products_ms / 1e6 if products_ms else 0.0,
        "floor_epoch_s": floor_s,
        "floor_vs_mf": floor_s / mf_s,
        "epoch_vs_mf": epoch_s / mf_s,
        "rest_beyond_mf_ms_per_step": 1e3 * (epoch_s - mf_s) / steps - products_ms,
    }


def floor_markdown(result: dict[str, Any]) -> str:
    """One row per preset: the epoch and the floor against MF's, and the step's parts."""
    lines = [
        f"Best rate on one large product: {result['peak_gmacs']:.0f} G multiply-adds/s; "
        f"{result['steps_per_epoch']} steps an epoch; MF dispatches {result['mf']['ops_per_step']:.0f} "
        f"operators a step and no product.",
        "",
        "| preset | epoch (CPU s) | x MF | products per step (M multiply-adds) | floor x MF | products in the step: ms, G/s | "
        "rest beyond MF's step (ms) | operators per step |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in result.items():
        if isinstance(row, dict) and "floor_vs_mf" in row:
            lines.append(
                f"| {name} | {row['epoch_cpu_s']:.3f} | {row['epoch_vs_mf']:.1f}x | {row['macs_per_step'] / 1e6:.0f} "
                f"| {row['floor_vs_mf']:.1f}x | {row['products_ms_per_step']:.1f}, {row['products_gmacs_in_step']:.0f} "
                f"| {row['rest_beyond_mf_ms_per_step']:.1f} | {row['ops_per_step']:.0f} |"
            )
    return "\n".join(lines)
