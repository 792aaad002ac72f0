"""The Enhanced model over GPT2Recommender on `cold-items` (issue "The seed's model wins where
text matters", item 1): per seed, the GPT2Recommender chosen by bench/search_text.py is trained,
then the Enhanced model with base "gpt2rec" starts from that very run (every shared weight,
attention gate 0) and trains its attention part. By construction it starts at the GPT2Recommender
run's validation and keeps those weights unless an epoch validates better; the test says what
the attention adds on held-out items.

    REC_CORE_DATA=../shared/data python bench/cold_over_gpt2rec.py --seeds 0 1 2

Runs go to bench/runs/cold-over-gpt2rec/ (finished ones made with today's training code are reused); the summary to
bench/results/cold_over_gpt2rec.json, written after every seed. Caveat (stated in the JSON): the
Enhanced run trains longer than the run it starts from; its equal-budget control would be the
GPT2Recommender run trained on ("continued"), which the warm start of GPT2Recommender itself does
not offer yet.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any

from quality import MF_TRAIN, _chosen, _config_key, _finished_runs

from rec_core.data import DataConfig
from rec_core.evaluate import compare_seeds
from rec_core.experiment import RunConfig, execute_run, start_run
from rec_core.models.enhanced import EnhancedConfig
from rec_core.runs import RunStore
from rec_core.split import SplitConfig

HERE = Path(__file__).resolve().parent
METRICS = ("ndcg@10", "hit@10")


def _run(store: RunStore, config: RunConfig) -> str:
    """A finished run of `config` made with today's training code (reused, as bench/quality.py
    reuses its runs), else a new one."""
    found = _finished_runs(store).get(_config_key(config.to_dict()))
    return found if found is not None else str(execute_run(start_run(config, store))["run_id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--runs", type=Path, default=HERE / "runs" / "cold-over-gpt2rec")
    parser.add_argument("--out", type=Path, default=None, help="default: results/cold_over_gpt2rec[_frozen].json")
    parser.add_argument(
        "--freeze-base", action="store_true", help="keep the GPT2Recommender fixed: only the attention part learns"
    )
    args = parser.parse_args()
    name = "cold_over_gpt2rec_frozen" if args.freeze_base else "cold_over_gpt2rec"
    args.out = args.out or HERE / "results" / f"{name}.json"
    store = RunStore(args.runs)
    _label, gpt2rec, lr, _valid = _chosen("cold-items")["GPT2Recommender"]
    data, split = DataConfig(name="ml-100k"), SplitConfig(kind="cold-items")
    out: dict[str, Any] = {
        "what": "Enhanced (base gpt2rec, attention, warm-started from each seed's GPT2Recommender run, gate 0) "
        "vs that GPT2Recommender run, cold-items, NDCG@10 among the held-out items",
        "caveat": "the Enhanced run trains longer than its source run; no GPT2Recommender-continued control yet",
        "frozen_base": args.freeze_base,
        "load_average_at_start": list(os.getloadavg()),
        "per_seed": {},
    }
    tables: dict[str, dict[int, Any]] = {"gpt2rec": {}, "enhanced": {}}
    for seed in args.seeds:
        start = time.perf_counter()
        base = RunConfig(data=data, split=split, model=gpt2rec, train=dataclasses.replace(MF_TRAIN, lr=lr), seed=seed)
        base_id = _run(store, base)
        model = EnhancedConfig(
            base="gpt2rec",
            init_from_run=base_id,
            gate_init=0.0,
            freeze_mf=args.freeze_base,
            use_attention=True,
            id_dropout=gpt2rec.id_dropout,
            mf_dropout=gpt2rec.mf_dropout,
            contrastive_weight=0.0,
            backbone=gpt2rec.backbone,
            max_length=gpt2rec.max_length,
            embed_dim=gpt2rec.embed_dim,
        )
        enh = RunConfig(data=data, split=split, model=model, train=dataclasses.replace(MF_TRAIN, lr=1e-3), seed=seed)
        enh_id = _run(store, enh)
        row: dict[str, Any] = {"seconds": time.perf_counter() - start}
        for key, run_id in (("gpt2rec", base_id), ("enhanced", enh_id)):
            run = store.get(run_id)
            res = run.results()
            primary = res["test"]["primary"]
            row[key] = {
                "run_id": run_id,
                "metrics": {m: primary["metrics"][m] for m in METRICS},
                "random": {m: primary["random"][m] for m in METRICS},
                "best_epoch": res["best_epoch"],
                "best_phase": res.get("best_phase"),
            }
            tables[key][seed] = run.read_table("per_user_test")
        out["per_seed"][str(seed)] = row
        if len(tables["gpt2rec"]) >= 1:
            out["comparison"] = {m: compare_seeds(tables["gpt2rec"], tables["enhanced"], m).to_dict() for m in METRICS}
        out["load_average_at_end"] = list(os.getloadavg())
        args.out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
        print(f"seed {seed}: {json.dumps({k: row[k]['metrics'] for k in ('gpt2rec', 'enhanced')})}", flush=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
