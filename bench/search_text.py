"""Hyperparameter search of the text models on the validation split (seed 0), MF's budget.

    python bench/search_text.py --split ratio        # warm-started from seed 0's MF run
    python bench/search_text.py --split cold-items

Every candidate is a real run (the CLI's pipeline) in the quality suite's store
(`bench/runs/ml100k-<split>-text/`), so a warm start finds the suite's MF run of the same seed
and bench/quality.py reuses finished runs of the same config. Candidates are ranked by
validation NDCG@10 of their restored weights; test metrics are never read here. The grid and
every candidate's validation metrics go to `bench/results/search_text_<split>.json`; the chosen
configs are the ones bench/quality.py runs on five seeds.

Training budget: MF's (up to 300 epochs, patience 20, batch 2048); only the learning rate is
searched. Grids (kept small: a cached Enhanced epoch is about a second on one core):
- ratio: the text models warm-started from MF (`init_from_run=auto`, `freeze_mf`, gate 0:
  the text part learns a residual over that MF); Enhanced with and without attention, lr x
  contrastive weight, plus a lighter attention (2 heads, text rank 32) for speed; the same
  warm start for GPT2Recommender, so that its row stays comparable.
- cold-items: the MF part knows nothing of held-out items, so no warm start; lr x DropoutNet
  style `mf_dropout` x contrastive weight for Enhanced (attention), lr x `mf_dropout` for
  GPT2Recommender.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import time
from pathlib import Path
from typing import Any

from quality import MF, MF_TRAIN, _config_key, _finished_runs  # bench/ is this script's folder

from rec_core.data import DataConfig
from rec_core.experiment import RunConfig, execute_run, start_run
from rec_core.models.enhanced import EnhancedConfig
from rec_core.models.gpt2rec import GPT2RecConfig
from rec_core.runs import RunStore
from rec_core.runs.environment import code_fingerprint
from rec_core.split import SplitConfig

HERE = Path(__file__).resolve().parent
SEED = 0
MONITOR = "ndcg@10"
LRS = {"ratio": (3e-4, 1e-3, 5e-3), "cold-items": (1e-3, 5e-3)}
# Warm start from the same seed's MF run with its part frozen; the zero gate makes the initial
# weights score exactly as that MF, and the trainer keeps them unless an epoch validates better.
CONTRASTIVE_WEIGHTS = (0.01, 0.05, 0.2)
TEMPERATURES = (0.1, 0.5)
WARM = {"init_from_run": "auto", "freeze_mf": True, "gate_init": 0.0}


def candidates(split: str) -> list[tuple[str, dict[str, Any], Any]]:
    """[(label, searched values, model config)] of a split's grid."""
    out: list[tuple[str, dict[str, Any], Any]] = []
    if split == "ratio":
        for attention, cl in itertools.product((False, True), (0.0, 0.05)):
            base = EnhancedConfig.from_preset("scheme1", **WARM) if not attention else EnhancedConfig(**WARM)
            out.append(
                (
                    "Enhanced " + ("attention" if attention else "scheme 1"),
                    {"contrastive_weight": cl},
                    dataclasses.replace(base, contrastive_weight=cl),
                )
            )
        light = {"contrastive_weight": 0.0, "n_heads": 2, "text_rank": 32}
        out.append(
            ("Enhanced attention (2 heads, rank 32)", {"contrastive_weight": 0.0}, EnhancedConfig(**WARM, **light))
        )
        # The MF part fine-tuned with the text part (its L2 as in MF) instead of frozen.
        out.append(
            (
                "Enhanced scheme 1 (MF part trained)",
                {"contrastive_weight": 0.0, "freeze_mf": False},
                EnhancedConfig.from_preset("scheme1", **{**WARM, "freeze_mf": False}, contrastive_weight=0.0),
            )
        )
        out.append(
            (
                "Enhanced attention (2 heads, rank 32, MF part trained)",
                {"contrastive_weight": 0.0, "freeze_mf": False},
                EnhancedConfig(**{**WARM, "freeze_mf": False}, **light),
            )
        )
        out.append(("GPT2Recommender", {}, GPT2RecConfig(**WARM)))
        out.append(
            ("GPT2Recommender (MF part trained)", {"freeze_mf": False}, GPT2RecConfig(**{**WARM, "freeze_mf": False}))
        )
    elif split == "cold-items":
        for mf_dropout, cl in itertools.product((False, True), (0.0, 0.1)):
            out.append(
                (
                    "Enhanced attention",
                    {"mf_dropout": mf_dropout, "contrastive_weight": cl},
                    EnhancedConfig(mf_dropout=mf_dropout, contrastive_weight=cl, id_dropout=0.2),
                )
            )
        best = {"mf_dropout": True, "contrastive_weight": 0.0}  # the best of the four above
        out.append(
            ("Enhanced attention (id_dropout 0.5)", {**best, "id_dropout": 0.5}, EnhancedConfig(**best, id_dropout=0.5))
        )
        out.append(
            (
                "Enhanced attention (2 heads, rank 32)",
                best,
                EnhancedConfig(**best, id_dropout=0.2, n_heads=2, text_rank=32),
            )
        )
        for mf_dropout in (False, True):
            out.append(
                ("GPT2Recommender", {"mf_dropout": mf_dropout}, GPT2RecConfig(mf_dropout=mf_dropout, id_dropout=0.2))
            )
    else:
        raise SystemExit(f"unknown split {split!r}: ratio or cold-items")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", required=True, choices=["ratio", "cold-items"])
    ap.add_argument("--runs-dir", default=str(HERE / "runs"))
    args = ap.parse_args()
    suite = "ml100k-ratio-text" if args.split == "ratio" else "ml100k-cold-text"
    store = RunStore(Path(args.runs_dir) / suite)
    data, split = DataConfig(name="ml-100k"), SplitConfig(kind=args.split)
    done = _finished_runs(store)
    mf_cfg = RunConfig(data=data, split=split, model=MF, train=MF_TRAIN, seed=SEED)
    if args.split == "ratio" and _config_key(mf_cfg.to_dict()) not in done:
        execute_run(start_run(mf_cfg, store))  # the warm start's source, as the suite trains it
    rows: list[dict[str, Any]] = []

    def run_candidate(label: str, values: dict[str, Any], model: Any, lr: float) -> dict[str, Any]:
        cfg = RunConfig(data=data, split=split, model=model, seed=SEED, train=dataclasses.replace(MF_TRAIN, lr=lr))
        key = _config_key(cfg.to_dict())
        t = time.perf_counter()
        run = store.get(done[key]) if key in done else start_run(cfg, store)
        res = run.results() if key in done else execute_run(run)
        valid = res["valid"]["primary"]["metrics"]
        print(
            f"{label} {values} lr={lr}: valid {MONITOR} {valid[MONITOR]:.4f} "
            f"(best epoch {res['best_epoch']} {res.get('best_phase')}, {time.perf_counter() - t:.0f}s)",
            flush=True,
        )
        return {
            "label": label,
            "values": {**values, "lr": lr},
            "run_id": run.run_id,
            "valid": {m: valid[m] for m in ("ndcg@10", "hit@10", "recall@10")},
            "best_epoch": res["best_epoch"],
            "best_phase": res.get("best_phase"),
            "epochs_run": res["epochs_run"],
            "epoch_s_mean": res["timings"]["epoch_s_mean"],
            "warm_start_run": res.get("warm_start_run"),
            "model": dataclasses.asdict(model),
        }

    for (label, values, model), lr in itertools.product(candidates(args.split), LRS[args.split]):
        rows.append(run_candidate(label, values, model, lr))
    # The contrastive term must earn its place: a sweep of its weight and temperature on the
    # best Enhanced candidate (its other values and lr fixed).
    top = max((r for r in rows if r["label"].startswith("Enhanced")), key=lambda r: r["valid"][MONITOR])
    top_model = EnhancedConfig(**top["model"])
    sweep = [top]
    for weight, temperature in itertools.product(CONTRASTIVE_WEIGHTS, TEMPERATURES):
        values = {
            **{k: v for k, v in top["values"].items() if k != "lr"},
            "contrastive_weight": weight,
            "temperature": temperature,
        }
        sweep.append(
            run_candidate(
                top["label"],
                values,
                dataclasses.replace(top_model, contrastive_weight=weight, temperature=temperature),
                top["values"]["lr"],
            )
        )
    best: dict[str, Any] = {}
    for row in rows + sweep[1:]:
        label = row["label"].split(" (")[0]  # the lighter attention competes with attention
        if label not in best or row["valid"][MONITOR] > best[label]["valid"][MONITOR]:
            best[label] = row
    out = {
        "split": args.split,
        "seed": SEED,
        "monitor": MONITOR,
        "code": code_fingerprint(),
        "budget": dataclasses.asdict(MF_TRAIN) | {"lr": list(LRS[args.split])},
        "chosen": {
            label: {"values": r["values"], "label": r["label"], "run_id": r["run_id"], "valid": r["valid"]}
            for label, r in best.items()
        },
        "candidates": rows,
        "contrastive_sweep": {
            "of": top["label"],
            "runs": sweep,
            "best": max(sweep, key=lambda r: r["valid"][MONITOR])["values"],
        },
        "protocol": "seed 0, validation split only (test never read); MF's epoch cap and patience",
    }
    path = HERE / "results" / f"search_text_{args.split}.json"
    path.write_text(json.dumps(out, indent=2, default=float) + "\n", encoding="utf-8")
    for label, r in best.items():
        print(f"chosen {label}: {r['label']} {r['values']} valid {MONITOR} {r['valid'][MONITOR]:.4f}")


if __name__ == "__main__":
    main()
