"""How `--preset cold` was chosen: candidate recipes on validation, several seeds, one fold each.

    python bench/preset_choice.py                      # seeds 0-2 -> results/preset_choice_cold.json
    python bench/preset_choice.py --seeds 0 1 2 3      # more seeds (finished runs are reused)

Each candidate is the Enhanced model over GPT2Recommender's score (base "gpt2rec", trained
with it from scratch, the text models' lr 5e-3, MF's epoch cap and patience) with one design
element switched: cross-attention over every token, over content tokens only (`content_keys`),
the text-to-ID map for unseen items (`text_to_id`, three variants) and the contrastive term.
GPT2Recommender itself is the yardstick. Every run is a `cold-items` split, fold 0 of 5 item
folds (`--folds 5 --fold 0`, so no candidate sees the items the suite's other folds test),
chosen on validation NDCG@10 only; the test value is stored but plays no part in the choice.
The chosen values are `rec_core.configs.PRESETS["cold"]`; the suite that measures the preset on
10 seeds x 5 folds is `bench/quality.py --suite ml100k-cold-preset --folds 5`.

Runs are named `<candidate>-s<seed>-f0` in the run store (default bench/runs/preset-choice);
a finished run with the same config is reused, so the script resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

from rec_core.experiment import RunConfig, execute_run, start_run
from rec_core.runs import RunStore

from quality import _config_key  # bench/, this script's folder, is on sys.path when it runs

HERE = Path(__file__).resolve().parent
BASE = {"name": "enhanced", "base": "gpt2rec", "id_dropout": 0.2}
CANDIDATES: dict[str, dict[str, Any]] = {
    "gpt2rec": {"name": "gpt2rec"},
    "attention, every token": BASE,
    "attention, content tokens": {**BASE, "content_keys": True},
    "attention + text-to-ID map": {**BASE, "text_to_id": True},
    "attention + text-to-ID map (weight 0.1)": {**BASE, "text_to_id": True, "text_to_id_weight": 0.1},
    "attention + text-to-ID map + MF dropout": {**BASE, "text_to_id": True, "mf_dropout": True},
    "attention + contrastive 0.2": {**BASE, "contrastive_weight": 0.2, "temperature": 0.1},
}
# Short run-id stems (the names the first runs were made with).
STEMS = {
    "gpt2rec": "gpt2rec",
    "attention, every token": "encg",
    "attention, content tokens": "encgck",
    "attention + text-to-ID map": "encgmap",
    "attention + text-to-ID map (weight 0.1)": "encgmapw01",
    "attention + text-to-ID map + MF dropout": "encgmapdrop",
    "attention + contrastive 0.2": "encgcl",
}
TRAIN = {"epochs": 300, "patience": 20, "batch_size": 2048, "threads": 1, "lr": 0.005}


def config(candidate: str, seed: int) -> RunConfig:
    split = {"kind": "cold-items", "folds": 5, "fold": 0}
    return RunConfig.from_dict(
        {"data": {"name": "ml-100k"}, "split": split, "model": CANDIDATES[candidate], "train": TRAIN, "seed": seed}
    )


def result(store: RunStore, candidate: str, seed: int) -> dict[str, Any]:
    """The finished run of (candidate, seed), trained now if the store has none."""
    cfg = config(candidate, seed)
    run_id = f"{STEMS[candidate]}-s{seed}-f0"
    if (store.root / run_id).is_dir():
        run = store.get(run_id)
        res = run.results()
        if res is None or _config_key(run.config()) != _config_key(cfg.to_dict()):
            raise SystemExit(f"{run_id} in {store.root} is unfinished or another config: move it away and rerun")
    else:
        run = start_run(cfg, store, run_id=run_id)
        res = execute_run(run)
    return {
        "run_id": run.run_id,
        "valid_ndcg@10": res["valid"]["primary"]["metrics"]["ndcg@10"],
        "test_ndcg@10": res["test"]["primary"]["metrics"]["ndcg@10"],
        "best_epoch": res["best_epoch"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--runs-dir", type=Path, default=HERE / "runs" / "preset-choice")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "preset_choice_cold.json")
    args = parser.parse_args()
    store = RunStore(args.runs_dir)
    rows: dict[str, Any] = {}
    for candidate in CANDIDATES:
        per_seed = {seed: result(store, candidate, seed) for seed in args.seeds}
        valid = [r["valid_ndcg@10"] for r in per_seed.values()]
        rows[candidate] = {
            "model": CANDIDATES[candidate],
            "per_seed": per_seed,
            "valid_ndcg@10_mean": statistics.mean(valid),
        }
        print(f"{candidate:42s} valid NDCG@10 {statistics.mean(valid):.4f}  " + " ".join(f"{v:.3f}" for v in valid))
    chosen = max((c for c in rows if c != "gpt2rec"), key=lambda c: rows[c]["valid_ndcg@10_mean"])
    out = {
        "split": "cold-items, fold 0 of 5 item folds",
        "seeds": args.seeds,
        "train": TRAIN,
        "chosen_on": "mean validation NDCG@10 over the seeds",
        "chosen": chosen,
        "candidates": rows,
    }
    args.out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"chosen: {chosen}\nwrote {args.out}")


if __name__ == "__main__":
    main()
