"""Where the text models gain or lose on `ratio`: per segment, against the equal-budget control.

    python bench/segments.py            # reads the ml100k-ratio-text runs -> results/segments_ml100k-ratio-text.json
    python bench/segments.py --suite ml100k-ratio-preset    # the warm preset's suite

Nothing is trained: the runs of `bench/quality.py --suite ml100k-ratio-text` (in bench/runs/)
are read. Segments (issue "The seed's model wins where text matters", item 4):

- users by activity: 1-20, 21-50 and 51+ training interactions. Each seed's per-user test
  table, restricted to the segment's users, goes through `compare_seeds` (paired within the
  seed, tested over seeds);
- test items by training popularity (`rec_core.evaluate.segments`: head = the 10% most
  popular items, torso the next 30%, tail the rest): each run records its segment metrics
  (the ground truth restricted to the segment's items); the per-seed differences are tested by
  the same seed-level t-test (`seed_level_test`).

Every text row and MF from scratch are compared with MF continued (the warm-started rows'
equal-budget control), NDCG@10, Holm-adjusted over the whole table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rec_core.evaluate.compare import compare_seeds, holm, seed_level_test
from rec_core.runs import RunStore

HERE = Path(__file__).resolve().parent
SUITE = "ml100k-ratio-text"
METRIC = "ndcg@10"
USER_SEGMENTS = {"users 1-20": (1, 20), "users 21-50": (21, 50), "users 51+": (51, 10**9)}
ITEM_SEGMENTS = ("tail", "torso", "head")
ROWS = (
    "MF (BPR)",
    "GPT2Recommender",
    "Enhanced scheme 1 (MF part trained)",
    "Enhanced attention (2 heads, rank 32, MF part trained)",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--suite", default=SUITE, help="a ratio suite of bench/quality.py (ml100k-ratio-preset: the warm preset)"
    )
    parser.add_argument("--runs", type=Path, help="its run store (default bench/runs/<suite>)")
    parser.add_argument("--out", type=Path, help="default bench/results/segments_<suite>.json")
    args = parser.parse_args()
    name = args.suite
    args.runs = args.runs or HERE / "runs" / name
    args.out = args.out or HERE / "results" / f"segments_{name}.json"
    suite = json.loads((HERE / "results" / f"quality_{name}.json").read_text(encoding="utf-8"))
    control = suite.get("equal_budget_reference") or "MF continued"
    store = RunStore(args.runs, create=False)
    models = suite["models"]

    def runs_of(label: str) -> dict[int, Any]:
        return {int(s): store.get(e["run_id"]) for s, e in models[label]["per_seed"].items() if "run_id" in e}

    ref_runs = runs_of(control)
    ref_tables = {s: r.read_table("per_user_test") for s, r in ref_runs.items()}
    rows: list[dict[str, Any]] = []
    # The listed rows of the original suite; of another suite, MF and every text row.
    wanted = ROWS if name == SUITE else ("MF (BPR)", *(k for k in models if k.startswith(("Enhanced", "GPT2"))))
    for label in (r for r in wanted if r in models):
        runs = runs_of(label)
        tables = {s: r.read_table("per_user_test") for s, r in runs.items()}
        for seg, (low, high) in USER_SEGMENTS.items():

            def part(t: pd.DataFrame, low: int = low, high: int = high) -> pd.DataFrame:
                return t[(t["n_train"] >= low) & (t["n_train"] <= high)]

            c = compare_seeds(
                {s: part(t) for s, t in ref_tables.items()}, {s: part(t) for s, t in tables.items()}, METRIC
            )
            rows.append({"model": label, "segment": seg, "comparison": c})
        for seg in ITEM_SEGMENTS:
            common = sorted(set(runs) & set(ref_runs))
            a = [ref_runs[s].results()["test"]["primary"]["segments"][seg][METRIC] for s in common]
            b = [runs[s].results()["test"]["primary"]["segments"][seg][METRIC] for s in common]
            p, low_ci, high_ci, _ = seed_level_test(np.subtract(b, a))
            rows.append(
                {
                    "model": label,
                    "segment": f"items {seg}",
                    "item_level": {
                        "seeds": common,
                        "mean_a": float(np.mean(a)),
                        "mean_b": float(np.mean(b)),
                        "diff": float(np.mean(b) - np.mean(a)),
                        "ci_low": low_ci,
                        "ci_high": high_ci,
                        "p_value": p,
                    },
                }
            )
    # One family: Holm over every row of the table, user and item segments alike.
    adjusted = holm([r["comparison"].p_value if "comparison" in r else r["item_level"]["p_value"] for r in rows])
    out_rows = []
    n_seeds = len(ref_runs)
    print(f"NDCG@10 against {control} (seed-level t-test over {n_seeds} seeds, Holm over the {len(rows)} rows)\n")
    print("| model | segment | reference | model's | difference | 95% CI | p | p (Holm) |")
    print("|---|---|---|---|---|---|---|---|")
    for r, p_holm in zip(rows, adjusted):
        if "comparison" in r:
            c = r["comparison"]
            rec = {
                "model": r["model"],
                "segment": r["segment"],
                "n_users": c.n_users,
                "mean_a": c.mean_a,
                "mean_b": c.mean_b,
                "diff": c.diff,
                "ci_low": c.ci_low,
                "ci_high": c.ci_high,
                "p_value": c.p_value,
                "per_seed": [p.diff for p in c.per_seed],
            }
        else:
            rec = {"model": r["model"], "segment": r["segment"], **r["item_level"]}
        rec["p_holm"] = p_holm
        rec["significant"] = bool(p_holm < 0.05)
        out_rows.append(rec)
        rel = rec["diff"] / rec["mean_a"] if rec["mean_a"] else float("nan")
        star = " *" if rec["significant"] else ""
        print(
            f"| {rec['model']} | {rec['segment']} | {rec['mean_a']:.4f} | {rec['mean_b']:.4f} | {100 * rel:+.1f}%{star} | "
            f"[{rec['ci_low']:+.4f}, {rec['ci_high']:+.4f}] | {rec['p_value']:.2g} | {p_holm:.2g} |"
        )
    args.out.write_text(
        json.dumps({"suite": name, "reference": control, "metric": METRIC, "rows": out_rows}, indent=2) + "\n",
        encoding="utf-8",
    )
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
