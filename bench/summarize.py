"""Print bench/README.md's benchmark tables from bench/results/*.json (Markdown), and the lines
that say which training code (fingerprint) made each quality suite's runs: bench/README.md
("Results") copies them, and tests/test_readme_fingerprints.py checks that every fingerprint it
names is one the JSON holds, beside the file that holds it."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from quality import markdown  # bench/, this script's folder, is on sys.path when it runs

HERE = Path(__file__).resolve().parent


def _seeds(seeds: list[int]) -> str:
    return f"seed {seeds[0]}" if len(seeds) == 1 else "seeds " + ", ".join(str(s) for s in seeds)


def code_line(name: str, out: dict[str, Any]) -> str:
    """Which training code made the runs of one quality suite (`out`, the JSON of `name`):
    the fingerprint of most runs, then each other one with the rows and seeds it made."""
    runs: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))  # code -> row -> seeds
    for label, entry in out.get("models", {}).items():
        for seed, row in sorted((entry.get("per_seed") or {}).items(), key=lambda kv: int(kv[0])):
            runs[str(row.get("code") or "unrecorded")][label].append(int(seed))
    if not runs:
        return f"`{name}`: no runs recorded"
    count = {code: sum(len(s) for s in rows.values()) for code, rows in runs.items()}
    main_code = max(sorted(count), key=lambda c: count[c])
    others = [
        f"{label} {_seeds(seeds)} (`{code}`)"
        for code in sorted(runs)
        if code != main_code
        for label, seeds in runs[code].items()
    ]
    line = f"`{name}`: training code `{main_code}`"
    line += f", except {'; '.join(others)}" if others else " (every run)"
    codes = " ".join(sorted(runs))
    return f"{line}; `python bench/quality.py --suite {out['suite']} --summarize-only --code {codes}` rewrites it."


def code_lines(results: Path) -> list[str]:
    """`code_line` of every quality suite's JSON in `results`, in file name order."""
    return [
        code_line(path.name, json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(results.glob("quality_*.json"))
    ]


def main() -> None:
    for path in sorted((HERE / "results").glob("quality_*.json")):
        print(markdown(json.loads(path.read_text(encoding="utf-8"))))
        print()
    print('Training code of each suite\'s runs (bench/README.md, "Results"):')
    print()
    for line in code_lines(HERE / "results"):
        print(f"- {line}")
    print()
    for path in sorted((HERE / "results").glob("speed_*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        print(f"`{path.name}`:")
        for key, value in data.items():
            if isinstance(value, dict) and "median_s" in value:
                print(f"- {key}: {value['median_s']:.3f} s (median of {value['repeats']})")
            elif isinstance(value, (int, float)):
                print(f"- {key}: {value:.3f}" if isinstance(value, float) else f"- {key}: {value}")
        print()


if __name__ == "__main__":
    main()
