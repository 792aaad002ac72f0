"""The scale benchmark runs end to end at a tiny size and writes every measure it reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_scale_benchmark_smoke_run_writes_every_measure(tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "scale.py"), "--sizes", "tiny", "--steps", "2", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "REC_CORE_CACHE": str(tmp_path / "cache")},
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    rows = {row["model"]: row for row in result["rows"]}
    assert set(rows) == {"mf", "enhanced"} and not [r for r in rows.values() if "error" in r], rows
    for row in rows.values():
        assert row["interactions"] > 0 and row["eval_users_total"] > 0 and row["eval_s"] > 0
        assert row["peak_rss_mb"] > 0 and set(row["peak_anon_mb"]) == {"data", "build", "epoch", "eval"}
    assert rows["mf"]["epoch_s"] > 0
    enhanced = rows["enhanced"]
    assert enhanced["measured_steps"] == 2 and enhanced["epoch_s_extrapolated"] > 0
    assert enhanced["encode_s"] > 0 and enhanced["texts_encoded"] == enhanced["users"] + enhanced["items"]
    # The model's token states stay in the feature cache's file (memory-mapped float16).
    assert [side["states_file_backed"] for side in enhanced["text_sides"]] == [True, True]
    assert len(result["load_average_at_start"]) == 3 and result["environment"]["torch"]
