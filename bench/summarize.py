"""Print the README's benchmark tables from bench/results/*.json (Markdown)."""

from __future__ import annotations

import json
from pathlib import Path

from quality import markdown  # bench/, this script's folder, is on sys.path when it runs

HERE = Path(__file__).resolve().parent


def main() -> None:
    for path in sorted((HERE / "results").glob("quality_*.json")):
        print(markdown(json.loads(path.read_text(encoding="utf-8"))))
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
