"""The Enhanced model's targets, checked against the committed quality results.

    python bench/targets.py      # prints the table; writes bench/results/targets_enhanced.json

Reads bench/results/quality_ml100k-{ratio,cold}-text.json (made by bench/quality.py) and says,
for each target, what was measured and whether it is met. On `ratio` every claim about a
warm-started text model is stated against its equal-budget control first (MF continued from the
same MF run with the same extra training), then against MF from scratch. Nothing is re-run and nothing is
weakened: a target whose rows are missing reads "not measured".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rec_core.evaluate.compare import MIN_SEEDS_T_TEST, seed_level_test

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def _load(suite: str) -> dict[str, Any] | None:
    path = RESULTS / f"quality_{suite}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _best_enhanced(models: dict[str, Any], *, exclude: tuple[str, ...] = ("scheme 3",)) -> str | None:
    """The Enhanced row with the highest mean test NDCG@10 (scheme 3 has its own target)."""
    rows = [k for k in models if k.startswith("Enhanced") and not any(x in k for x in exclude)]
    return max(rows, key=lambda k: models[k]["ndcg@10"]["mean"]) if rows else None


def _seed_level(cmp: dict[str, Any]) -> dict[str, Any]:
    """A stored comparison as today's seed-level test states it. Suites summarised before the
    seed-level test (no `verdict` recorded) kept a bootstrap CI that can exclude 0 while the
    t-test does not reject (cold-items: CI -44%..-4% with p = 0.10); their per-seed differences
    are stored, so p and the t-interval are recomputed from them, and the row says so."""
    if "verdict" in cmp or cmp.get("n_seeds", 0) < MIN_SEEDS_T_TEST:
        return cmp
    p, low, high, _ = seed_level_test([s["diff"] for s in cmp["per_seed"]], cmp.get("alpha", 0.05))
    return {
        **cmp,
        "p_value": p,
        "ci_low": low,
        "ci_high": high,
        "significant": p < cmp.get("alpha", 0.05),
        "restated": True,
    }


def _rel_ci(cmp: dict[str, Any]) -> tuple[float, float, float]:
    """(relative difference, CI low, CI high) of a seed-aware comparison, relative to its reference."""
    cmp = _seed_level(cmp)
    ref = cmp["mean_a"]
    return cmp["rel_diff"], cmp["ci_low"] / ref, cmp["ci_high"] / ref


def _fmt(cmp: dict[str, Any]) -> str:
    rel, lo, hi = _rel_ci(cmp)
    cmp = _seed_level(cmp)
    sig = "significant" if cmp["significant"] else "not significant"
    again = "; t-interval recomputed from the stored per-seed differences" if cmp.get("restated") else ""
    return (
        f"{100 * rel:+.1f}% (CI {100 * lo:+.1f}% to {100 * hi:+.1f}%, p={cmp['p_value']:.2g}, {sig}, "
        f"{cmp['n_seeds']} seeds{again})"
    )


def check() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    ratio, cold = _load("ml100k-ratio-text"), _load("ml100k-cold-text")

    def add(split: str, what: str, target: str, measured: str, met: bool | None) -> None:
        out.append({"split": split, "comparison": what, "target": target, "measured": measured, "met": met})

    if ratio:
        m = ratio["models"]
        best = _best_enhanced(m)
        # Every ratio claim is stated against the equal-budget control first (MF continued from
        # the same MF run with the text rows' extra budget: PROTOCOL.md, "Equal budget"), then
        # against MF from scratch, whose difference includes what the extra training alone gains.
        control = ratio.get("equal_budget_reference") or "MF continued"
        references = (("vs_continued", f"{control} (equal budget)"), ("vs_reference", "MF (from scratch)"))
        if control in m and "vs_reference" in m[control]:
            add(
                "ratio",
                f"{control} vs MF: what the extra training alone gains",
                "reported (no target): the part of a warm-started model's gain over MF that is not text",
                _fmt(m[control]["vs_reference"]["ndcg@10"]),
                None,
            )
        if best:
            for key, name in references:
                cmp = m[best].get(key, {}).get("ndcg@10")
                if not cmp:
                    if key == "vs_continued":
                        add("ratio", f"best Enhanced ({best}) vs {name}", "—", "not measured", None)
                    continue
                rel, lo, _ = _rel_ci(cmp)
                add(
                    "ratio",
                    f"best Enhanced ({best}) vs {name}",
                    "mean difference >= 0 and CI low end above -1%",
                    _fmt(cmp),
                    rel >= 0 and lo > -0.01,
                )
                add(
                    "ratio",
                    f"best Enhanced ({best}) vs {name} (stretch)",
                    ">= +3%, significant",
                    _fmt(cmp),
                    rel >= 0.03 and cmp["significant"],
                )
            for label in m:  # the other warm-started text rows against the control
                cmp = m[label].get("vs_continued", {}).get("ndcg@10")
                if cmp and label != best and not label.startswith("Ablation"):
                    add(
                        "ratio",
                        f"{label} vs {control} (equal budget)",
                        "mean difference >= 0 and CI low end above -1%",
                        _fmt(cmp),
                        cmp["rel_diff"] >= 0 and _rel_ci(cmp)[1] > -0.01,
                    )
            for key, name in (
                ("vs_gpt2rec", "GPT2Recommender (searched, same warm start)"),
                ("vs_gpt2rec_from_scratch", "GPT2Recommender (from scratch)"),
            ):
                cmp = m[best].get(key, {}).get("ndcg@10")
                if cmp:
                    add(
                        "ratio",
                        f"best Enhanced ({best}) vs {name}",
                        ">= +3% NDCG@10, significant",
                        _fmt(cmp),
                        cmp["rel_diff"] >= 0.03 and _seed_level(cmp)["significant"],
                    )
    segments = RESULTS / "segments_ml100k-ratio-text.json"
    if segments.exists():  # bench/segments.py: sparse users and tail items against MF continued
        rows = json.loads(segments.read_text(encoding="utf-8"))["rows"]
        sparse = [
            r
            for r in rows
            if r["model"].startswith("Enhanced") and r["segment"] in ("users 1-20", "users 21-50", "items tail")
        ]
        won = [f"{r['model']} on {r['segment']}" for r in sparse if r["significant"] and r["diff"] > 0]
        best = max(sparse, key=lambda r: r["diff"] / r["mean_a"] if r["mean_a"] else 0.0, default=None)
        if best is not None:
            add(
                "ratio",
                "Enhanced vs MF continued on sparse users (1-20, 21-50 training interactions) or tail items",
                "above, significant (Holm over the segment table), in at least one segment",
                ", ".join(won)
                if won
                else f"none significant; largest: {best['model']} on {best['segment']} "
                f"{100 * best['diff'] / best['mean_a']:+.1f}% (p={best['p_value']:.2g}, Holm {best['p_holm']:.2g})",
                bool(won),
            )
    if cold:
        m = cold["models"]
        best = _best_enhanced(m)
        if best:
            cmp = m[best].get("vs_gpt2rec", {}).get("ndcg@10")
            if cmp:
                add(
                    "cold-items",
                    f"Enhanced ({best}) vs GPT2Recommender",
                    ">= +20% NDCG@10, significant",
                    _fmt(cmp),
                    cmp["rel_diff"] >= 0.20 and _seed_level(cmp)["significant"],
                )
            times = m[best].get("times_random", {}).get("ndcg@10")
            add(
                "cold-items",
                f"Enhanced ({best}) vs random ranking",
                ">= 4x",
                f"{times:.2f}x" if times is not None else "not measured",
                None if times is None else times >= 4,
            )
    out += preset_targets()
    for split, res in (("ratio", ratio), ("cold-items", cold)):
        rows = [(k, v) for k, v in (res or {}).get("models", {}).items() if "scheme 3" in k]
        for label, entry in rows:
            seeds = entry["per_seed"]
            dynamic = sum(1 for r in seeds.values() if r.get("best_phase") == "dynamic")
            # Before the cached phase's best stayed a candidate (select_best "any"), a scheme-3
            # run restored its dynamic phase's best by rule: "best epoch in the dynamic phase"
            # was true by construction and measures nothing. Such rows are not counted as met.
            measured = bool(seeds) and all(r.get("select_best") == "any" for r in seeds.values())
            add(
                split,
                f"{label}: best epoch in its dynamic phase",
                "measured on at least 3 seeds (the cached phase's best a candidate)",
                f"{len(seeds)} seeds, best epoch in the dynamic phase on {dynamic}; NDCG@10 "
                f"{entry['ndcg@10']['mean']:.4f}"
                + ("" if measured else "; these runs predate selection over both phases (dynamic by rule): re-run"),
                (len(seeds) >= 3 and dynamic >= 3) if measured else None,
            )
    return out


COLD_PRESET = "Enhanced (--preset cold)"
WARM_PRESET = "Enhanced (--preset warm)"


def preset_targets() -> list[dict[str, Any]]:
    """The recipe presets' targets (issue "The seed's model wins where text matters"), from
    quality_ml100k-cold-preset-folds5.json (10 seeds, 5 item folds each) and
    quality_ml100k-ratio-preset.json (5 seeds) with segments_ml100k-ratio-preset.json."""
    out: list[dict[str, Any]] = []

    def add(split: str, what: str, target: str, measured: str, met: bool | None) -> None:
        out.append({"split": split, "comparison": what, "target": target, "measured": measured, "met": met})

    cold = _load("ml100k-cold-preset-folds5")
    if cold and COLD_PRESET in cold["models"]:
        m, seeds = cold["models"], len(cold["models"][COLD_PRESET]["per_seed"])
        row = m[COLD_PRESET]
        where = f"cold-items ({seeds} seeds x {cold.get('folds')} folds)"
        cmp = row.get("vs_gpt2rec", {}).get("ndcg@10")
        if cmp:
            rel, lo, _ = _rel_ci(cmp)
            sig = _seed_level(cmp)["significant"]
            add(
                where,
                f"{COLD_PRESET} vs GPT2Recommender",
                ">= GPT2Recommender: t-interval low end above -3%",
                _fmt(cmp),
                lo > -0.03 and rel >= 0,
            )
            add(
                where,
                f"{COLD_PRESET} vs GPT2Recommender (target)",
                ">= +10%, significant",
                _fmt(cmp),
                rel >= 0.10 and sig,
            )
            add(
                where,
                f"{COLD_PRESET} vs GPT2Recommender (stretch)",
                ">= +20%, significant",
                _fmt(cmp),
                rel >= 0.20 and sig,
            )
        times = row.get("times_random", {}).get("ndcg@10")
        if times is not None:
            add(where, f"{COLD_PRESET} vs random ranking", ">= 4x", f"{times:.2f}x", times >= 4)
        randoms = cold.get("random", {}).get("per_seed", {})
        per_seed = {
            s: e["metrics"]["ndcg@10"] / randoms[s]["ndcg@10"] for s, e in row["per_seed"].items() if s in randoms
        }
        if per_seed:
            worst = min(per_seed, key=per_seed.get)
            add(
                where,
                f"{COLD_PRESET}: every seed vs random ranking",
                "no seed below 2.5x",
                f"lowest: seed {worst} {per_seed[worst]:.2f}x",
                per_seed[worst] >= 2.5,
            )
        for label, entry in m.items():  # what each switch of the recipe is worth
            cmp = entry.get("vs_full_model", {}).get("ndcg@10")
            if cmp and label.startswith("Ablation"):
                add(where, f"{label} vs {COLD_PRESET}", "reported (locates the gain or loss)", _fmt(cmp), None)
    ratio = _load("ml100k-ratio-preset")
    if ratio and WARM_PRESET in ratio["models"]:
        m = ratio["models"]
        where = f"ratio ({len(m[WARM_PRESET]['per_seed'])} seeds)"
        cmp = m[WARM_PRESET].get("vs_continued", {}).get("ndcg@10")
        if cmp:
            add(
                where,
                f"{WARM_PRESET} vs MF continued (equal budget)",
                "above, significant",
                _fmt(cmp),
                cmp["rel_diff"] > 0 and _seed_level(cmp)["significant"],
            )
        if "EASE" in m:
            ours, ease = m[WARM_PRESET]["ndcg@10"]["mean"], m["EASE"]["ndcg@10"]["mean"]
            add(
                where,
                f"{WARM_PRESET} vs EASE (stretch)",
                "at or above EASE",
                f"{ours:.4f} vs {ease:.4f} ({100 * (ours / ease - 1):+.1f}%)",
                ours >= ease,
            )
    segments = RESULTS / "segments_ml100k-ratio-preset.json"
    if segments.exists():
        rows = [
            r
            for r in json.loads(segments.read_text(encoding="utf-8"))["rows"]
            if r["model"] == WARM_PRESET and r["segment"] in ("users 1-20", "users 21-50", "items tail")
        ]
        won = [r["segment"] for r in rows if r["significant"] and r["diff"] > 0]
        best = max(rows, key=lambda r: r["diff"] / r["mean_a"] if r["mean_a"] else 0.0, default=None)
        if best is not None:
            add(
                "ratio",
                f"{WARM_PRESET} vs MF continued on sparse users (1-20, 21-50) or tail items",
                "above, significant (Holm over the segment table), in at least one segment",
                ", ".join(won)
                if won
                else f"none significant; largest: {best['segment']} {100 * best['diff'] / best['mean_a']:+.1f}% "
                f"(p={best['p_value']:.2g}, Holm {best['p_holm']:.2g})",
                bool(won),
            )
    return out


def main() -> None:
    rows = check()
    (RESULTS / "targets_enhanced.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print("| split | comparison | target | measured | met |")
    print("|---|---|---|---|---|")
    for r in rows:
        if r["met"] is None:  # no target (a reported quantity) or nothing measured
            met = "not measured" if r["measured"] == "not measured" else "—"
        else:
            met = "**met**" if r["met"] else "**not met**"
        print(f"| {r['split']} | {r['comparison']} | {r['target']} | {r['measured']} | {met} |")


if __name__ == "__main__":
    main()
