"""Hyperparameter search of the text models with Optuna, on several seeds' validation splits.

    python bench/search_text.py --split ratio        # warm-started from each seed's MF run
    python bench/search_text.py --split cold-items
    python bench/search_text.py --split ratio --dataset synthetic --epochs 1 --trials 2 \
        --runs-dir /tmp/st --out /tmp/st.json        # a smoke check on tiny data

One study per model family (GPT2Recommender, Enhanced scheme 1 on ratio, Enhanced attention),
through `rec_core.tune` (the engine of `python -m rec_core tune`): TPE sampler, median pruner,
objective the mean validation NDCG@10 over the seeds' splits (default 0, 1, 2: one cold
split's validation items are too few to choose on), every trial's runs real run folders in the
quality suite's store (`bench/runs/ml100k-<split>-text/`), so a warm start finds the suite's MF
run of the same seed and bench/quality.py reuses the chosen config's runs. Test metrics are
never read. The studies live in that store's `studies/` folder: the same command again
continues them (`--trials` is each study's total). Each study starts from the recipe chosen
before (enqueued as its first trial), so the search can only keep it or beat it on validation.

Training budget: MF's (up to 300 epochs, patience 20, batch 2048). The JSON
(`bench/results/search_text_<split>.json`) keeps the shape bench/quality.py's `_chosen` reads:
`chosen` (per family: the best trial, its values, seed-0 run id and mean validation metrics),
`candidates` (every complete trial) and `contrastive_sweep` (the Enhanced trials, from which
the best non-zero contrastive weight and temperature are taken for the ablation row).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
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
from rec_core.tune import (
    TuneSettings,
    apply_params,
    make_objective,
    open_study,
    optimize,
    parse_space,
    pipeline_trainer,
    study_path,
    study_record,
    study_report,
)

HERE = Path(__file__).resolve().parent
MONITOR = "ndcg@10"
VALID_METRICS = ("ndcg@10", "hit@10", "recall@10")
# Warm start from the same seed's MF run with its part frozen; the zero gate makes the initial
# weights score exactly as that MF, and the trainer keeps them unless an epoch validates better.
WARM = {"init_from_run": "auto", "freeze_mf": True, "gate_init": 0.0}
LR = {"low": 1e-4, "high": 1e-2, "log": True}
CONTRASTIVE = {
    "contrastive_weight": {"choices": [0.0, 0.01, 0.05, 0.2]},
    "temperature": {"choices": [0.1, 0.2, 0.5]},
}
ATTENTION = {"n_heads": {"choices": [2, 4]}, "text_rank": {"choices": [32, 64]}}
COLD = {"mf_dropout": {"choices": [False, True]}, "id_dropout": {"low": 0.0, "high": 0.6}}

# (family label, base model config, search space, the earlier grid's choice as the first trial)
Family = tuple[str, Any, dict[str, Any], dict[str, Any]]


def families(split: str) -> list[Family]:
    if split == "ratio":
        freeze = {"freeze_mf": {"choices": [True, False]}}
        return [
            ("GPT2Recommender", GPT2RecConfig(**WARM), {"lr": LR, **freeze}, {"lr": 1e-3, "freeze_mf": True}),
            (
                "Enhanced scheme 1",
                EnhancedConfig.from_preset("scheme1", **WARM),
                {"lr": LR, **freeze, **CONTRASTIVE},
                {"lr": 1e-3, "freeze_mf": True, "contrastive_weight": 0.05, "temperature": 0.2},
            ),
            (
                "Enhanced attention",
                EnhancedConfig(**WARM),
                {"lr": LR, **freeze, **CONTRASTIVE, **ATTENTION},
                {
                    "lr": 1e-3,
                    "freeze_mf": True,
                    "contrastive_weight": 0.0,
                    "temperature": 0.2,
                    "n_heads": 4,
                    "text_rank": 64,
                },
            ),
        ]
    if split == "cold-items":
        return [
            (
                "GPT2Recommender",
                GPT2RecConfig(id_dropout=0.2),
                {"lr": LR, **COLD},
                {"lr": 5e-3, "mf_dropout": False, "id_dropout": 0.2},
            ),
            (
                "Enhanced attention",
                EnhancedConfig(id_dropout=0.2),
                {"lr": LR, **COLD, **CONTRASTIVE, **ATTENTION},
                {
                    "lr": 1e-3,
                    "mf_dropout": True,
                    "id_dropout": 0.5,
                    "contrastive_weight": 0.2,
                    "temperature": 0.1,
                    "n_heads": 4,
                    "text_rank": 64,
                },
            ),
        ]
    raise SystemExit(f"unknown split {split!r}: ratio or cold-items")


def _data(name: str) -> DataConfig:
    if name == "synthetic":  # smoke checks only: tiny, with texts that carry the genres
        return DataConfig(name="synthetic", synthetic_users=120, synthetic_items=90)
    return DataConfig(name="ml-100k")


def _row(label: str, trial: dict[str, Any], base: RunConfig, params: Any, store: RunStore) -> dict[str, Any]:
    """A complete trial as a candidate row: its values (lr and, for Enhanced, the contrastive
    weight and temperature always present), seed-0 run id and mean validation metrics."""
    by_name = {p.name: p for p in params}
    config = apply_params(base, {by_name[k]: v for k, v in trial["params"].items()})
    values = {**trial["params"], "lr": config.train.lr}
    if isinstance(config.model, EnhancedConfig):
        values.update(contrastive_weight=config.model.contrastive_weight, temperature=config.model.temperature)
    per_seed: dict[str, dict[str, float]] = {}
    for seed, run_id in trial["runs"].items():
        results = store.get(run_id).results() or {}
        metrics = results["valid"]["primary"]["metrics"]  # validation only: test is never read here
        per_seed[seed] = {m: float(metrics[m]) for m in VALID_METRICS}
    valid = {m: sum(v[m] for v in per_seed.values()) / len(per_seed) for m in VALID_METRICS}
    return {
        "label": label,
        "trial": trial["number"],
        "values": values,
        "run_id": next(iter(trial["runs"].values())),  # the first seed's run
        "runs": trial["runs"],
        "valid": valid,
        "valid_per_seed": per_seed,
        "model": dataclasses.asdict(config.model),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", required=True, choices=["ratio", "cold-items"])
    ap.add_argument("--runs-dir", default=str(HERE / "runs"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--trials", type=int, default=24, help="trials per family's study (its total)")
    ap.add_argument("--timeout", type=float, help="seconds per family after which no trial starts")
    ap.add_argument("--dataset", choices=["ml-100k", "synthetic"], default="ml-100k")
    ap.add_argument("--epochs", type=int, help="the text models' epoch cap instead of MF's 300 (smoke checks)")
    ap.add_argument("--out", help="the JSON's path (default bench/results/search_text_<split>.json)")
    args = ap.parse_args()
    suite = "ml100k-ratio-text" if args.split == "ratio" else "ml100k-cold-text"
    root = Path(args.runs_dir) / suite
    store = RunStore(root)
    data, split = _data(args.dataset), SplitConfig(kind=args.split)
    train = MF_TRAIN if args.epochs is None else dataclasses.replace(MF_TRAIN, epochs=args.epochs)
    if args.split == "ratio":  # each seed's warm-start source, as the suite trains it
        done = _finished_runs(store)
        for seed in args.seeds:
            # MF's own budget whatever --epochs says: the quality suite's MF row is this run
            mf_cfg = RunConfig(data=data, split=split, model=MF, train=MF_TRAIN, seed=seed)
            if _config_key(mf_cfg.to_dict()) not in done:
                execute_run(start_run(mf_cfg, store))
    prefix = "" if args.dataset == "ml-100k" else f"{args.dataset}-"
    studies: dict[str, Any] = {}
    candidates: list[dict[str, Any]] = []
    train_one = pipeline_trainer(store)
    for label, model, space, start in families(args.split):
        base = RunConfig(data=data, split=split, model=model, train=train)
        params = parse_space(space, base)
        name = prefix + "search-" + label.lower().replace(" ", "-")
        settings = TuneSettings(name=name, seeds=tuple(args.seeds), trials=args.trials, timeout_s=args.timeout)
        study = open_study(study_path(root, name), settings, study_record(base, params, settings))
        if not study.get_trials():
            study.enqueue_trial(start)  # the earlier grid's choice: the search starts from it
        say = lambda line, label=label: print(f"{label}: {line}", flush=True)  # noqa: E731
        optimize(study, make_objective(base, params, settings, train_one, say), settings)
        report = study_report(study, base, params, settings)
        studies[label] = {
            "study": name,
            "storage": str(study_path(root, name)),
            "space": report["space"],
            "counts": report["counts"],
            "best_trial": (report["best"] or {}).get("trial"),
        }
        candidates += [_row(label, t, base, params, store) for t in report["trials"] if t["state"] == "complete"]
    best: dict[str, dict[str, Any]] = {}
    for row in candidates:
        if row["label"] not in best or row["valid"][MONITOR] > best[row["label"]]["valid"][MONITOR]:
            best[row["label"]] = row
    enhanced = [r for r in candidates if r["label"].startswith("Enhanced")]
    top = max(enhanced, key=lambda r: r["valid"][MONITOR]) if enhanced else None
    out = {
        "split": args.split,
        "dataset": data.name,
        "seeds": args.seeds,
        "monitor": MONITOR,
        "code": code_fingerprint(),
        "budget": dataclasses.asdict(train),
        "search": "Optuna (rec_core.tune): TPE sampler (seed 0), median pruner; objective the mean "
        f"validation {MONITOR} over seeds {args.seeds}; each study starts from the earlier grid's choice",
        "studies": studies,
        "chosen": {
            label: {
                "values": r["values"],
                "label": r["label"],
                "run_id": r["run_id"],
                "runs": r["runs"],
                "trial": r["trial"],
                "valid": r["valid"],
                "valid_per_seed": r["valid_per_seed"],
            }
            for label, r in best.items()
        },
        "candidates": candidates,
        "contrastive_sweep": {
            "of": "every Enhanced trial (the contrastive weight and temperature are searched with the rest)",
            "runs": enhanced,
            "best": top["values"] if top else None,
        },
        "protocol": f"seeds {args.seeds}, validation splits only (test never read); MF's epoch cap and patience",
    }
    path = Path(args.out) if args.out else HERE / "results" / f"search_text_{args.split}.json"
    path.write_text(json.dumps(out, indent=2, default=float) + "\n", encoding="utf-8")
    for label, r in best.items():
        print(f"chosen {label}: trial {r['trial']} {r['values']} mean valid {MONITOR} {r['valid'][MONITOR]:.4f}")
    print(f"written: {path}")


if __name__ == "__main__":
    main()
