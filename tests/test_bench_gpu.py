"""The prepared GPU benchmark runs end to end (tiny sizes on CPU) and writes its JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_gpu_benchmark_smoke_run_writes_every_measure(tmp_path: Path) -> None:
    out = tmp_path / "gpu.json"
    env = {**os.environ, "REC_CORE_CACHE": str(tmp_path / "cache"), "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "gpu.py"), "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["smoke"] is True and result["device"] == "cpu"
    for precision in ("fp32", "bf16"):
        assert result[f"encode_items_{precision}"]["texts_per_s"] > 0
        assert result[f"dynamic_lora_top2_epoch_{precision}"]["seconds"] > 0
    assert "two CUDA devices" in result["two_processes_mf_3_epochs"]
