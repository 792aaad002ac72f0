"""Before and after a change: `speed.py --part epochs` run alternately in two trees.

    REC_CORE_DATA=../shared/data python bench/speed_ab.py --before d48e844 --runs 3

On a shared 2-core machine one process's epochs can run 10-20% faster or slower than the
next process's for the same code (memory layout, other jobs), so a before/after claim taken
from two single runs can be noise. This runs the epochs part `--runs` times in each tree,
alternating (before, after, before, ...), each in a fresh process, and reports per preset the
median over runs of the epoch's CPU seconds and of its ratio to MF's epoch in the same process,
with every run's numbers beside them (results/speed_epochs_ab.json). The before tree is a
detached git worktree of `--before`, removed afterwards; the after tree is this checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _epochs(tree: Path, output: Path) -> dict[str, Any]:
    """One `--part epochs` run of the code in `tree`, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, str(tree / "bench" / "speed.py"), "--part", "epochs", "--output", str(output)]
    subprocess.run(cmd, cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)
    result: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    return result


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per model: every run's epoch CPU seconds and ratio to MF, and their medians."""
    names = [k for k, v in runs[0].items() if isinstance(v, dict) and "cpu_median_s" in v]
    out: dict[str, Any] = {}
    for name in names:
        cpu = [r[name]["cpu_median_s"] for r in runs if name in r]
        ratio = [r["cpu_vs_mf"][name] for r in runs if name in r.get("cpu_vs_mf", {})]
        out[name] = {"cpu_s": cpu, "cpu_s_median": statistics.median(cpu)}
        if ratio:
            out[name] |= {"vs_mf": ratio, "vs_mf_median": statistics.median(ratio)}
    out["evaluation_vs_mf_median"] = {
        name: statistics.median(r["evaluation"]["cpu_vs_mf"][name] for r in runs)
        for name in runs[0]["evaluation"]["cpu_vs_mf"]
    }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True, help="git revision of the code before the change")
    ap.add_argument("--runs", type=int, default=3, help="runs of the epochs part in each tree (alternating)")
    ap.add_argument("--output", type=Path, default=HERE / "results" / "speed_epochs_ab.json")
    args = ap.parse_args()
    rev = subprocess.run(
        ["git", "rev-parse", "--short", args.before], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    load_start = list(os.getloadavg())
    with tempfile.TemporaryDirectory() as tmp:
        before_tree = Path(tmp) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", str(before_tree), rev], cwd=ROOT, check=True)
        try:
            runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
            for k in range(args.runs):
                for label, tree in (("before", before_tree), ("after", ROOT)):
                    runs[label].append(_epochs(tree, Path(tmp) / f"{label}_{k}.json"))
                    print(f"{label} run {k + 1}/{args.runs} done", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before_tree)], cwd=ROOT, check=False)
    before, after = _summary(runs["before"]), _summary(runs["after"])
    change = {
        name: after[name]["cpu_s_median"] / before[name]["cpu_s_median"] - 1
        for name in after
        if name in before and isinstance(after[name], dict) and "cpu_s_median" in after[name]
    }
    result = {
        "before_revision": rev,
        "runs": args.runs,
        "before": before,
        "after": after,
        "cpu_s_change": change,
        "load_average_at_start": load_start,
        "load_average_at_end": list(os.getloadavg()),
        "environment": runs["after"][-1].get("environment"),
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for name, c in change.items():
        b, a = before[name], after[name]
        ratio = f", {b['vs_mf_median']:.1f}x -> {a['vs_mf_median']:.1f}x MF" if "vs_mf_median" in a else ""
        print(f"{name}: {b['cpu_s_median']:.3f} -> {a['cpu_s_median']:.3f} CPU s ({c:+.0%}){ratio}")


if __name__ == "__main__":
    main()
