"""Quality benchmark: models x seeds through the real pipeline, mean +- std, paired tests.

    python bench/quality.py --suite ml100k-ratio-id --seeds 0 1 2

Each (model, seed) is a real run (the CLI's pipeline) in `bench/runs/`; the JSON summary goes
to `bench/results/quality_<suite>.json` and a Markdown table is printed for the README.
Selection (early stopping) uses the validation split only; test is read once per run.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rec_core.data import DataConfig  # noqa: E402
from rec_core.evaluate import paired_compare, seed_summary  # noqa: E402
from rec_core.experiment import RunConfig, execute_run, start_run  # noqa: E402
from rec_core.models.enhanced import EnhancedConfig  # noqa: E402
from rec_core.models.gpt2rec import GPT2RecConfig  # noqa: E402
from rec_core.models.mf import MFConfig  # noqa: E402
from rec_core.models.popularity import PopularityConfig  # noqa: E402
from rec_core.runs import RunStore  # noqa: E402
from rec_core.split import SplitConfig  # noqa: E402
from rec_core.train import TrainConfig  # noqa: E402

HERE = Path(__file__).resolve().parent
METRICS = ("ndcg@10", "hit@10", "recall@10", "mrr@10", "ndcg@20", "hit@20")

# Hyperparameters chosen on the validation split of seed 0 (see README, "Benchmarks").
MF = MFConfig(embed_dim=64, reg_weight=5e-3, item_bias=True)
MF_TRAIN = TrainConfig(epochs=300, lr=2e-3, batch_size=2048, patience=20, threads=1)
# Text models: fixed before any run (a faster lr and a shorter patience, to fit a 2-core budget).
TEXT_TRAIN = TrainConfig(epochs=30, lr=5e-3, batch_size=2048, patience=5, threads=1)


def _suite(name: str) -> tuple[list[tuple[str, Callable[[int], RunConfig]]], str]:
    """[(label, seed -> RunConfig)] and the reference label of a suite."""
    ml = DataConfig(name="ml-100k")
    ratio = SplitConfig(kind="ratio")

    def run(model: Any, train: TrainConfig = MF_TRAIN, split: SplitConfig = ratio) -> Callable[[int], RunConfig]:
        return lambda seed: RunConfig(data=ml, split=split, model=model, train=train, seed=seed)

    if name == "ml100k-ratio-id":
        return [("Popularity", run(PopularityConfig())), ("MF (BPR)", run(MF))], "Popularity"
    if name in ("ml100k-ratio-text", "ml100k-cold-text"):
        split = ratio if name.endswith("ratio-text") else SplitConfig(kind="cold-items")
        text_models = [
            ("GPT2Recommender", GPT2RecConfig()),
            ("Enhanced scheme 1", EnhancedConfig.from_preset("scheme1")),
            ("Enhanced attention + contrastive (cached)", EnhancedConfig()),
            # One dynamic epoch on the top block: a dynamic ML-100K epoch re-encodes every batch's
            # texts with gradients, minutes per epoch on 2 CPU cores (see speed_text.json).
            ("Enhanced scheme 3 (LoRA top 1, 1 dynamic epoch)", EnhancedConfig.from_preset(
                "scheme3", cached_epochs=TEXT_TRAIN.epochs - 1, dynamic_layers=1)),
            ("Ablation: attention off", EnhancedConfig(use_attention=False)),
            ("Ablation: contrastive 0", EnhancedConfig(contrastive_weight=0.0)),
        ]
        plan = [("MF (BPR)", run(MF, split=split))]
        if split.kind == "cold-items":
            plan.insert(0, ("Popularity", run(PopularityConfig(), split=split)))
        plan += [(label, run(cfg, TEXT_TRAIN, split)) for label, cfg in text_models]
        ref = "MF (BPR)"
        return plan, ref
    raise SystemExit(f"unknown suite {name!r}")


def _finished_runs(store: RunStore) -> dict[str, str]:
    """config JSON -> run id of the runs in `store` that finished (status done)."""
    out: dict[str, str] = {}
    for summary in store.list():
        if summary.state == "done":
            out[json.dumps(summary.config, sort_keys=True)] = summary.run_id
    return out


def per_user(run_dir: RunStore, run_id: str) -> pd.DataFrame:
    return run_dir.get(run_id).read_table("per_user_test").set_index("user")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", required=True)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--runs-dir", default=str(HERE / "runs"))
    ap.add_argument("--out")
    ap.add_argument("--skip-new", nargs="*", default=[],
                    help="label prefixes not to train now (finished runs are still reused)")
    ap.add_argument("--summarize-only", action="store_true",
                    help="train nothing: summarise the finished runs already in the store")
    args = ap.parse_args()
    plan, reference = _suite(args.suite)
    store = RunStore(Path(args.runs_dir) / args.suite)
    rows: dict[str, dict[int, dict[str, Any]]] = {}
    tables: dict[str, dict[int, pd.DataFrame]] = {}
    done = _finished_runs(store)
    for label, make in plan:
        for seed in args.seeds:
            cfg = make(seed)
            t = time.perf_counter()
            key = json.dumps(cfg.to_dict(), sort_keys=True)
            if key in done:  # same config already finished in this store: reuse, don't retrain
                run = store.get(done[key])
                res = run.results()
            elif args.summarize_only or any(label.startswith(p) for p in args.skip_new):
                print(f"{label} seed {seed}: not run (summarize-only)", flush=True)
                continue
            else:
                run = start_run(cfg, store)
                res = execute_run(run)
            primary = res["test"]["primary"]
            rows.setdefault(label, {})[seed] = {
                "run_id": run.run_id, "metrics": {m: primary["metrics"][m] for m in METRICS},
                "best_epoch": res["best_epoch"], "epochs_run": res["epochs_run"],
                "seconds": time.perf_counter() - t, "epoch_s_mean": res["timings"]["epoch_s_mean"],
            }
            if "all_items" in res["test"]:
                rows[label][seed]["all_items"] = {m: res["test"]["all_items"]["metrics"][m] for m in METRICS}
            tables.setdefault(label, {})[seed] = per_user(store, run.run_id)
            print(f"{label} seed {seed}: ndcg@10 {primary['metrics']['ndcg@10']:.4f} "
                  f"hit@10 {primary['metrics']['hit@10']:.4f} ({time.perf_counter() - t:.0f}s)", flush=True)
    missing = [label for label, _ in plan if label not in rows]
    summary: dict[str, Any] = {}
    for label, by_seed in rows.items():
        entry: dict[str, Any] = {"per_seed": by_seed}
        for m in METRICS:
            mean, std = seed_summary([r["metrics"][m] for r in by_seed.values()])
            entry[m] = {"mean": mean, "std": std}
        if label != reference and reference in tables:
            entry["vs_reference"] = _versus(tables[reference], tables[label])
        if "GPT2Recommender" in tables and label.startswith(("Enhanced", "Ablation")):
            entry["vs_gpt2rec"] = _versus(tables["GPT2Recommender"], tables[label])
        summary[label] = entry
    out = {"suite": args.suite, "seeds": args.seeds, "reference": reference, "models": summary,
           "not_run": missing,
           "protocol": "full ranking, train (and valid at test time) masked; selection on valid only"}
    path = Path(args.out) if args.out else HERE / "results" / f"quality_{args.suite}.json"
    path.write_text(json.dumps(out, indent=2, default=float) + "\n", encoding="utf-8")
    print(markdown(out))


def _versus(ref: dict[int, pd.DataFrame], other: dict[int, pd.DataFrame]) -> dict[str, Any]:
    """Per seed: paired test over users; pooled: users' metrics averaged over seeds, then paired."""
    out: dict[str, Any] = {}
    for m in ("ndcg@10", "hit@10"):
        per_seed = {}
        for seed in other:
            c = paired_compare(ref[seed].reset_index(), other[seed].reset_index(), m)
            per_seed[seed] = {"diff": c.diff, "rel_diff": c.rel_diff, "ci": [c.ci_low, c.ci_high],
                              "p_value": c.p_value, "significant": c.significant}
        a = pd.concat([ref[s][m] for s in other], axis=1).mean(axis=1)
        b = pd.concat([other[s][m] for s in other], axis=1).mean(axis=1)
        a, b = a.align(b, join="inner")
        d = (b - a).to_numpy()
        p = float(wilcoxon(d).pvalue) if np.any(d != 0) else 1.0
        out[m] = {"per_seed": per_seed, "pooled_rel_diff": float(d.mean() / a.mean()), "pooled_p_value": p,
                  "significant_all_seeds": all(v["significant"] and v["diff"] > 0 for v in per_seed.values())}
    return out


def markdown(out: dict[str, Any]) -> str:
    lines = [f"Suite `{out['suite']}`, seeds {out['seeds']}, reference {out['reference']}", "",
             "| model | seeds | NDCG@10 | Hit@10 | Recall@10 | MRR@10 | NDCG@10 vs ref (pooled p) | Hit@10 vs ref "
             "| NDCG@10 vs GPT2Recommender |",
             "|---|---|---|---|---|---|---|---|---|"]
    for label, e in out["models"].items():
        cmps = []
        for m in ("ndcg@10", "hit@10"):
            vs = e.get("vs_reference", {}).get(m)
            cmps.append(f"{100 * vs['pooled_rel_diff']:+.1f}% (p={vs['pooled_p_value']:.2g})" if vs else "—")
        g = e.get("vs_gpt2rec", {}).get("ndcg@10")
        cmps.append(f"{100 * g['pooled_rel_diff']:+.1f}% (p={g['pooled_p_value']:.2g})" if g else "—")
        cells = [f"{e[m]['mean']:.4f} ± {e[m]['std']:.4f}" for m in ("ndcg@10", "hit@10", "recall@10", "mrr@10")]
        lines.append(f"| {label} | {len(e['per_seed'])} | " + " | ".join(cells) + " | " + " | ".join(cmps) + " |")
    for label in out.get("not_run", []):
        lines.append(f"| {label} | 0 | not run within this session's compute budget | | | | | | |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
