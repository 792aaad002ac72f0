"""Scale benchmark: synthetic data of 1 M, 3 M and 10 M interactions, one process per measure.

    python bench/scale.py                      # 1M, 3M, 10M (20k / 60k / 200k users x 100k items)
    python bench/scale.py --sizes tiny --out /tmp/scale.json   # a smoke run (seconds)

Data: `generate_synthetic_fast` (the vectorised synthetic generator; 50 interactions per user
on average, `ratio` split). Models: MF, and the Enhanced model in cache mode with attention on
the tiny-gpt2 backbone (random weights: what is measured is the recommender's cost, not a
language model's) with `max_length` 64 over every item and user text.

Each (size, model) runs in a fresh child process with its own empty feature cache, and
reports: the seconds to generate and split the data; for Enhanced, the seconds spent inside
`TextEncoder.encode` (all item and user texts, a cache miss) apart from the rest of building
the model, the size of the cache files and whether the model's token states stay memory-mapped
from them; the time of one training epoch (the first `--steps` steps timed and extrapolated to
the epoch's step count, `epoch_s_extrapolated`; at `--full-epoch-sizes` the whole epoch is
also run and timed, `epoch_s`, which checks the extrapolation); one full-ranking validation
pass (`evaluate`, users scored in chunks bounded by `EvalConfig.memory_mb`; above
`--eval-users` validation users a fixed random sample of them is scored and the time scaled
by the user count, `eval_s_extrapolated`); the process's peak resident memory (`ru_maxrss`, which
also counts pages of a memory-mapped file that were read) and the peak of its anonymous
memory (RssAnon sampled every 20 ms: what the process itself holds) in each phase.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

HERE = Path(__file__).resolve().parent
# name: (users, items, interactions per user on average)
SIZES: dict[str, tuple[int, int, int]] = {
    "tiny": (300, 500, 20),  # smoke test only
    "1M": (20_000, 100_000, 50),
    "3M": (60_000, 100_000, 50),
    "10M": (200_000, 100_000, 50),
}
BATCH = 2048


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class AnonPeak:
    """Peak anonymous resident memory (MB) per named phase, sampled by a background thread."""

    def __init__(self, every_s: float = 0.02) -> None:
        self.every_s = every_s
        self.phases: dict[str, float] = {}
        self._peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._peak = max(self._peak, _status_kb("RssAnon"))
            self._stop.wait(self.every_s)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self._peak = _status_kb("RssAnon")
        try:
            yield
        finally:
            self.phases[name] = round(max(self._peak, _status_kb("RssAnon")) / 1024, 1)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def measure(model_name: str, size: str, steps: int, full_epoch: bool, eval_users: int) -> dict[str, Any]:
    """One size, one model, in this process (called in a child process by `main`).

    `steps`: training steps timed to extrapolate an epoch; `full_epoch`: also run the rest of
    the epoch and time it whole; `eval_users`: at most this many validation users are scored
    (a fixed random sample when there are more; the time is then scaled by the user count)."""
    from dataclasses import replace

    import numpy as np
    import torch

    from rec_core.data import DataConfig
    from rec_core.data.synthetic import generate_synthetic_fast
    from rec_core.evaluate import EvalConfig, evaluate
    from rec_core.models.enhanced import EnhancedConfig, GPT2RecommenderEnhanced
    from rec_core.models.mf import MF, MFConfig
    from rec_core.models.text_features import TextSide
    from rec_core.split import SplitConfig, make_split
    from rec_core.text import TINY_GPT2, TextEncoder, TextEncoderConfig
    from rec_core.text.mapped import mapped_path
    from rec_core.train import TrainConfig, Trainer

    torch.set_num_threads(1)
    users, items, per_user = SIZES[size]
    memory = AnonPeak()
    out: dict[str, Any] = {"model": model_name, "size": size}
    with memory.phase("data"):
        t = time.perf_counter()
        data = generate_synthetic_fast(
            DataConfig(
                name="synthetic", synthetic_users=users, synthetic_items=items, synthetic_interactions_per_user=per_user
            )
        )
        out["data_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        split = make_split(data, SplitConfig(kind="ratio", seed=0))
        out["split_s"] = round(time.perf_counter() - t, 2)
    out.update(users=int(data.n_users), items=int(data.n_items), interactions=int(data.n_interactions))

    with memory.phase("build"):
        t = time.perf_counter()
        torch.manual_seed(0)
        if model_name == "mf":
            model: Any = MF(data.n_users, data.n_items, MFConfig())
        else:
            encoder = TextEncoder(TextEncoderConfig(backbone=TINY_GPT2, max_length=64))
            encode, spent = encoder.encode, {"s": 0.0, "texts": 0}

            def timed_encode(texts: Any, **kw: Any) -> Any:
                start = time.perf_counter()
                result = encode(texts, **kw)
                spent["s"] += time.perf_counter() - start
                spent["texts"] += len(texts)
                return result

            encoder.encode = timed_encode  # type: ignore[method-assign]
            model = GPT2RecommenderEnhanced(
                data.n_users,
                data.n_items,
                EnhancedConfig(backbone=TINY_GPT2, max_length=64, contrastive_weight=0.0),
                dataset=data,
                encoder=encoder,
            )
        out["build_s"] = round(time.perf_counter() - t, 2)
        if model_name != "mf":
            out["encode_s"] = round(spent["s"], 2)  # inside TextEncoder.encode: every item and user text
            out["texts_encoded"] = spent["texts"]
            out["build_without_encode_s"] = round(out["build_s"] - spent["s"], 2)  # cache file I/O, PCA, buckets
            cache = Path(os.environ["REC_CORE_CACHE"]) / "features"
            out["cache_files_mb"] = round(sum(p.stat().st_size for p in cache.glob("*.safetensors")) / 2**20, 1)
            sides = [m for m in model.modules() if isinstance(m, TextSide)]
            out["text_sides"] = [
                {
                    "entities": side.n,
                    "tokens_max": int(side.mask.shape[1]),
                    "tokens_mean": round(float(side.mask.sum(1).float().mean()), 1),
                    "rank": side.rank,
                    "states_file_backed": side._states is not None and mapped_path(side._states) is not None,
                    "states_dtype": str(side._states.dtype) if side._states is not None else None,
                    "held_buffers_mb": round(sum(b.numel() * b.element_size() for b in side.buffers()) / 2**20, 1),
                }
                for side in sides
            ]

    trainer = Trainer(model, data, split, TrainConfig(epochs=0, batch_size=BATCH, device="cpu"))
    trainer.fit(0)
    n_train = len(trainer._train_users)
    out["train_pairs"] = n_train
    out["steps_per_epoch"] = math.ceil(n_train / BATCH)
    with memory.phase("epoch"):
        ends: list[float] = []
        cap = None if full_epoch else steps

        def on_step(_trainer: Any, info: dict[str, Any]) -> None:
            ends.append(time.perf_counter())
            if cap is not None and len(ends) >= cap:
                trainer.request_stop()

        trainer.add_callback("on_step_end", on_step)
        t = time.perf_counter()
        trainer._train_epoch(model)
        total = time.perf_counter() - t
    # Extrapolation from the first `steps` steps: the first one (with the epoch's shuffle and
    # negative sampling) as measured, the mean of the others for each remaining step.
    first = ends[:steps]
    setup = first[0] - t
    later = [b - a for a, b in zip(first, first[1:])]
    step_s = sum(later) / max(1, len(later))
    out["measured_steps"] = len(first)
    out["first_step_with_epoch_setup_s"] = round(setup, 2)
    out["step_s_mean"] = round(step_s, 4)
    out["epoch_s_extrapolated"] = round(setup + step_s * (out["steps_per_epoch"] - 1), 2)
    if full_epoch:
        out["epoch_s"] = round(total, 2)  # the whole epoch, measured

    with memory.phase("eval"):
        valid_users = np.unique(data.users[split.valid])
        sample = split
        if len(valid_users) > eval_users:
            chosen = np.random.default_rng(0).choice(valid_users, eval_users, replace=False)
            sample = replace(split, valid=split.valid[np.isin(data.users[split.valid], chosen)])
        t = time.perf_counter()
        result = evaluate(model, data, sample, "valid", EvalConfig())
        seconds = time.perf_counter() - t
    out["eval_users_total"] = int(len(valid_users))
    out["eval_users_measured"] = int(result.n_users)
    if result.n_users == len(valid_users):
        out["eval_s"] = round(seconds, 2)  # every validation user, measured
    else:
        out["eval_s_measured"] = round(seconds, 2)
        out["eval_s_extrapolated"] = round(seconds * len(valid_users) / result.n_users, 2)
    out["valid_ndcg@10_after_timed_training"] = round(float(result.metrics["ndcg@10"]), 4)
    memory.close()
    out["peak_anon_mb"] = memory.phases
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def growth(rows: list[dict[str, Any]], small: str, large: str) -> dict[str, Any]:
    """Per model: ratio large / small of interactions, epoch time, evaluation time, peak memory."""
    out: dict[str, Any] = {}
    by = {(r["model"], r["size"]): r for r in rows if "error" not in r}
    for model in sorted({r["model"] for r in rows}):
        a, b = by.get((model, small)), by.get((model, large))
        if a is None or b is None:
            continue
        # Like for like: extrapolated epochs at both ends; evaluation measured or scaled.
        out[model] = {
            f"{name}_x": round(b[name] / a[name], 2)
            for name in ("interactions", "users", "epoch_s_extrapolated", "step_s_mean", "peak_rss_mb")
            if a.get(name) and b.get(name)
        }
        out[model]["eval_s_x"] = round(
            b.get("eval_s", b.get("eval_s_extrapolated", 0.0)) / a.get("eval_s", a.get("eval_s_extrapolated", 1.0)), 2
        )
        out[model]["peak_anon_mb_x"] = round(max(b["peak_anon_mb"].values()) / max(a["peak_anon_mb"].values()), 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", default=["1M", "3M", "10M"], choices=sorted(SIZES))
    ap.add_argument("--models", nargs="+", default=["mf", "enhanced"], choices=["mf", "enhanced"])
    ap.add_argument("--steps", type=int, default=40, help="training steps timed, then extrapolated to an epoch")
    ap.add_argument(
        "--full-epoch-sizes",
        nargs="*",
        default=["tiny", "1M"],
        help="sizes at which the whole epoch is also run and timed (checks the extrapolation)",
    )
    ap.add_argument(
        "--eval-users",
        type=int,
        default=20_000,
        help="validation users scored at most (a fixed sample; the time is scaled by the user count)",
    )
    ap.add_argument("--timeout", type=float, default=1500.0, help="seconds allowed to one child process")
    ap.add_argument("--out", default=str(HERE / "results" / "scale.json"))
    ap.add_argument("--child", nargs=3, metavar=("MODEL", "SIZE", "STEPS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        name, size, steps = args.child
        print(json.dumps(measure(name, size, int(steps), size in args.full_epoch_sizes, args.eval_users)))
        return
    load_start = list(os.getloadavg())
    started = time.perf_counter()
    rows = []
    for size in args.sizes:
        for name in args.models:
            load = list(os.getloadavg())
            with tempfile.TemporaryDirectory() as cache:
                try:
                    proc = subprocess.run(
                        [
                            sys.executable,
                            __file__,
                            "--child",
                            name,
                            size,
                            str(args.steps),
                            "--eval-users",
                            str(args.eval_users),
                            "--full-epoch-sizes",
                            *args.full_epoch_sizes,
                        ],
                        capture_output=True,
                        text=True,
                        timeout=args.timeout,
                        env={**os.environ, "REC_CORE_CACHE": cache},
                    )
                    row = (
                        json.loads(proc.stdout.strip().splitlines()[-1])
                        if proc.returncode == 0
                        else {"model": name, "size": size, "error": proc.stderr[-1500:]}
                    )
                except subprocess.TimeoutExpired:
                    row = {"model": name, "size": size, "error": f"timed out after {args.timeout} s"}
            row["load_average_before"] = [round(x, 2) for x in load]
            rows.append(row)
            print(json.dumps(row), flush=True)
    from rec_core.runs import environment_info

    sizes = [s for s in args.sizes if s != "tiny"]
    result = {
        "rows": rows,
        "growth": growth(rows, sizes[0], sizes[-1]) if len(sizes) > 1 else {},
        "growth_from_to": [sizes[0], sizes[-1]] if len(sizes) > 1 else [],
        "sizes": {s: dict(zip(("users", "items", "interactions_per_user"), SIZES[s])) for s in args.sizes},
        "batch_size": BATCH,
        "steps_timed": args.steps,
        "full_epoch_sizes": args.full_epoch_sizes,
        "eval_users_at_most": args.eval_users,
        "environment": environment_info("cpu"),
        "load_average_at_start": [round(x, 2) for x in load_start],
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "total_s": round(time.perf_counter() - started, 1),
        "note": (
            "one torch thread; each row is a fresh process with an empty feature cache (peak memory is "
            "that process's); 2 shared CPU cores with other jobs running (see the load averages). "
            "epoch_s_extrapolated: the first steps_timed steps of an epoch, timed, extrapolated to its "
            "steps_per_epoch; epoch_s: a whole epoch, measured (full_epoch_sizes only). eval_s: every "
            "validation user scored; eval_s_extrapolated: eval_users_at_most sampled users scored "
            "(eval_s_measured), the time scaled by the user count (fixed costs scaled too: an upper bound)"
        ),
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
