"""The training-code fingerprints bench/README.md names are those bench/results/*.json hold.

A fingerprint (`rec_core.runs.environment.code_fingerprint`, 16 hex digits) names the training
code a benchmark's runs were made with. bench/README.md must name only fingerprints the results
hold, each on a line that names a results file holding it, and every fingerprint of a quality
suite whose table it shows. `python bench/summarize.py` prints the lines to copy.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
BENCH_README = REPO / "bench" / "README.md"  # the suite tables and their fingerprint lines
FINGERPRINT = re.compile(r"`([0-9a-f]{16})`|--code((?: [0-9a-f]{16})+)")
RESULT_FILE = re.compile(r"\b([\w.-]+\.json)\b")


def _codes(value: Any) -> set[str]:
    """Every fingerprint under a `code` key anywhere in a results JSON."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "code":
                found |= {item} if isinstance(item, str) else {c for c in item if isinstance(c, str)}
            else:
                found |= _codes(item)
    elif isinstance(value, list):
        for item in value:
            found |= _codes(item)
    return found


def _held() -> dict[str, set[str]]:
    """results file name -> the fingerprints it holds."""
    return {p.name: _codes(json.loads(p.read_text(encoding="utf-8"))) for p in sorted(RESULTS.glob("*.json"))}


def _named(line: str) -> set[str]:
    names: set[str] = set()
    for quoted, listed in FINGERPRINT.findall(line):
        names |= {quoted} if quoted else set(listed.split())
    return names


def test_every_fingerprint_the_readme_names_is_held_by_the_results_file_it_names() -> None:
    held = _held()
    lines = BENCH_README.read_text(encoding="utf-8").splitlines()
    problems = []
    for number, line in enumerate(lines, 1):
        for code in sorted(_named(line)):
            holders = sorted(name for name, codes in held.items() if code in codes)
            named_files = set(RESULT_FILE.findall(line))
            if not holders:
                problems.append(f"bench/README.md line {number}: `{code}` is in no bench/results/*.json")
            elif not named_files & set(holders):
                problems.append(
                    f"bench/README.md line {number}: `{code}` is held by {holders}; the line names {sorted(named_files)}"
                )
    assert not problems, "\n".join(problems)


def test_the_readme_names_every_fingerprint_of_the_quality_suites_it_shows() -> None:
    readme = BENCH_README.read_text(encoding="utf-8")
    named = _named(readme)
    missing = []
    for path in sorted(RESULTS.glob("quality_*.json")):
        out = json.loads(path.read_text(encoding="utf-8"))
        if f"Suite `{out['suite']}`" not in readme:  # a suite whose table bench/README.md does not show
            continue
        missing += [f"{path.name}: `{code}`" for code in sorted(_codes(out) - named)]
    assert not missing, f"fingerprints bench/README.md does not name (python bench/summarize.py prints them): {missing}"


def test_summarize_names_each_fingerprint_with_its_rows_and_seeds(monkeypatch: Any) -> None:
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    summarize = importlib.import_module("summarize")
    out = {
        "suite": "demo",
        "models": {
            "MF": {"per_seed": {"0": {"code": "a" * 16}, "1": {"code": "a" * 16}, "2": {"code": "a" * 16}}},
            "Scheme 3": {"per_seed": {"0": {"code": "a" * 16}, "2": {"code": "b" * 16}, "1": {"code": "b" * 16}}},
        },
    }
    line = summarize.code_line("quality_demo.json", out)
    assert line.startswith(
        f"`quality_demo.json`: training code `{'a' * 16}`, except Scheme 3 seeds 1, 2 (`{'b' * 16}`)"
    )
    assert f"--code {'a' * 16} {'b' * 16}" in line
    assert _named(line) == {"a" * 16, "b" * 16}
    sys.modules.pop("summarize", None)
