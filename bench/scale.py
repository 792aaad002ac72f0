"""Scale benchmark: synthetic catalogues of 100,000 items, 1 M to 10 M interactions, one process.

    python bench/scale.py                       # users 20k, 60k, 200k (1 M, 3 M, 10 M interactions)
    python bench/scale.py --users 2000 --items 5000 --per-user 20 --out /tmp/scale.json   # small check

For each size and model (MF; the Enhanced model in cache mode with attention, on the tiny-gpt2
backbone so that the figure is the recommender's cost, not a language model's), a fresh
process builds the data, trains one epoch and runs one full-ranking validation pass; the JSON
records the seconds of each step and the process's peak resident memory. Evaluation scores
users in chunks bounded by EvalConfig.memory_mb, never the whole users x items matrix.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def measure(model_name: str, users: int, items: int, per_user: int) -> dict[str, Any]:
    """One size, one model, in this process (called in a child process by `main`)."""
    import torch

    from rec_core.data import DataConfig, load_dataset
    from rec_core.evaluate import EvalConfig, evaluate
    from rec_core.models.enhanced import EnhancedConfig, GPT2RecommenderEnhanced
    from rec_core.models.mf import MF, MFConfig
    from rec_core.split import SplitConfig, make_split
    from rec_core.train import TrainConfig, Trainer

    torch.set_num_threads(1)
    out: dict[str, Any] = {"model": model_name, "users": users, "items": items}
    t = time.perf_counter()
    data = load_dataset(DataConfig(name="synthetic", synthetic_users=users, synthetic_items=items,
                                   synthetic_interactions_per_user=per_user))
    split = make_split(data, SplitConfig(kind="ratio", seed=0))
    out["interactions"] = int(data.n_interactions)
    out["data_s"] = time.perf_counter() - t
    t = time.perf_counter()
    torch.manual_seed(0)
    if model_name == "mf":
        model: Any = MF(data.n_users, data.n_items, MFConfig())
    else:
        model = GPT2RecommenderEnhanced(data.n_users, data.n_items, EnhancedConfig(
            backbone="tiny-gpt2", max_length=32, contrastive_weight=0.0), dataset=data)
    out["build_s"] = time.perf_counter() - t  # includes text encoding for the Enhanced model
    trainer = Trainer(model, data, split, TrainConfig(epochs=0, batch_size=2048, device="cpu"))
    trainer.fit(0)
    t = time.perf_counter()
    trainer._train_epoch(model)
    out["epoch_s"] = time.perf_counter() - t
    t = time.perf_counter()
    result = evaluate(model, data, split, "valid", EvalConfig())
    out["eval_s"] = time.perf_counter() - t
    out["eval_users"] = result.n_users
    out["valid_ndcg@10"] = result.metrics["ndcg@10"]
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, nargs="+", default=[20_000, 60_000, 200_000])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--per-user", type=int, default=50)
    ap.add_argument("--models", nargs="+", default=["mf", "enhanced"])
    ap.add_argument("--out", default=str(HERE / "results" / "scale.json"))
    ap.add_argument("--child", nargs=4, metavar=("MODEL", "USERS", "ITEMS", "PER_USER"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        name, users, items, per_user = args.child
        print(json.dumps(measure(name, int(users), int(items), int(per_user))))
        return
    rows = []
    for users in args.users:
        for name in args.models:
            with tempfile.TemporaryDirectory() as cache:
                proc = subprocess.run(
                    [sys.executable, __file__, "--child", name, str(users), str(args.items), str(args.per_user)],
                    capture_output=True, text=True, env={**__import__("os").environ, "REC_CORE_CACHE": cache})
            if proc.returncode != 0:
                rows.append({"model": name, "users": users, "error": proc.stderr[-1500:]})
            else:
                rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    from rec_core.runs import environment_info

    result = {"rows": rows, "items": args.items, "per_user": args.per_user, "environment": environment_info("cpu"),
              "load_average_at_end": list(__import__("os").getloadavg()),
              "note": "one torch thread; each row is a fresh process (peak RSS is that process's)"}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
