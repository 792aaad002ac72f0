"""App benchmark: page render times with 50 runs in the store, and click-to-first-epoch.

    python bench/bench_app.py [--out bench/results/app.json] [--skip-first-epoch]

1. Render: a store of 50 real runs (tiny synthetic: 40 MF runs over 4 settings x 10 seeds,
   10 enhanced tiny-gpt2 runs over 2 settings x 5 seeds). Each page runs under Streamlit's
   AppTest: once in a fresh process (imports included) and then 5 more times (the steady state
   a user sees on every interaction); the median of those is what the 2 s target is about.
2. Click to first epoch: exactly what the Train page's Launch does (`submit_runs`, which
   queues `python -m rec_core execute RUN --runs-dir DIR --quiet` as a detached process) for
   the page's default settings on ML-100K (enhanced, scheme 1, MiniLM, 20 epochs), timed from
   the call until the store holds the first epoch's validation metrics, plus the page's poll
   interval (2 s, worst case) to put them on screen. Once with an empty text cache (cold),
   once more with the cache that run filled (warm). Each run is stopped after its first epoch.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

POLL_S = 2.0  # app_support.live.POLL_SECONDS: the page shows a new epoch at most this late
TARGETS = {"render_s": 2.0, "first_epoch_cold_s": 60.0, "first_epoch_warm_s": 15.0}


def tiny_config(model: str, seed: int, epochs: int) -> Any:
    """A run of the tiny synthetic dataset: `mf` or `enhanced` (tiny-gpt2, scheme 1); the same
    settings as the app tests' store (tests/app_store.py)."""
    from rec_core.data import DataConfig
    from rec_core.evaluate import EvalConfig
    from rec_core.experiment import RunConfig
    from rec_core.models.enhanced import EnhancedConfig
    from rec_core.models.mf import MFConfig
    from rec_core.split import SplitConfig
    from rec_core.train import TrainConfig

    model_cfg: Any = MFConfig(embed_dim=16)
    if model != "mf":
        model_cfg = EnhancedConfig.from_preset("scheme1", backbone="tiny-gpt2", max_length=32, embed_dim=16, n_heads=2)
    return RunConfig(data=DataConfig(name="synthetic", synthetic_users=120, synthetic_items=90),
                     split=SplitConfig(kind="ratio"), model=model_cfg,
                     train=TrainConfig(epochs=epochs, batch_size=512, patience=0, device="cpu"),
                     eval=EvalConfig(), seed=seed)


def seed_store(root: Path) -> float:
    """Make the 50 runs; returns seconds taken."""
    import dataclasses

    from rec_core.experiment import execute_run, start_run
    from rec_core.runs import RunStore

    store = RunStore(root)
    t0 = time.perf_counter()
    for dim in (8, 16, 24, 32):
        for seed in range(10):
            cfg = tiny_config("mf", seed, epochs=2)
            execute_run(start_run(dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, embed_dim=dim)), store))
    for epochs in (1, 2):
        for seed in range(5):
            execute_run(start_run(tiny_config("enhanced", seed, epochs=epochs), store))
    assert len(store.run_ids()) == 50
    return time.perf_counter() - t0


def render_times(runs: Path) -> dict[str, Any]:
    from streamlit.testing.v1 import AppTest

    os.environ["REC_CORE_RUNS"] = str(runs)
    out: dict[str, Any] = {}
    for page in ("app.py", "pages/1_Train.py", "pages/2_Compare.py"):
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
        at.session_state["lang"] = "en"
        if page != "app.py":
            at.switch_page(page)
        t = time.perf_counter()
        at.run()
        first = time.perf_counter() - t
        assert not at.exception, [e.value for e in at.exception]
        again = []
        for _ in range(5):
            t = time.perf_counter()
            at.run()
            again.append(time.perf_counter() - t)
        out[page] = {"first_render_s": round(first, 3), "rerender_median_s": round(statistics.median(again), 3),
                     "rerender_max_s": round(max(again), 3)}
    return out


def first_epoch(runs: Path, cache: Path) -> dict[str, Any]:
    """Seconds from Launch to the first epoch's metrics in the store, for the default settings."""
    from rec_app.launch import build_configs, submit_runs
    from rec_core.runs import RunQueue, RunStore

    os.environ["REC_CORE_CACHE"] = str(cache)  # the child process inherits it
    base = {"data": {"name": "ml-100k"}, "split": {"kind": "ratio"},
            "model": {"name": "enhanced", "preset": "scheme1", "backbone": "minilm", "embed_dim": 64,
                      "max_length": 64, "use_cache": True, "use_attention": False, "freeze_gpt2": True,
                      "use_peft": False, "contrastive_weight": 0.0, "cached_epochs": 0},
            "train": {"epochs": 20, "lr": 0.001, "batch_size": 2048, "patience": 10}}
    store = RunStore(runs)
    t0 = time.perf_counter()
    [run_id] = submit_runs(store, RunQueue(store, 1), build_configs(base, [0]))
    run = store.get(run_id)
    phases: dict[str, float] = {}
    while not run.history():
        st = run.status()
        if st["state"] in ("failed", "stopped", "done"):
            raise RuntimeError(f"run ended before its first epoch: {st.get('error')}")
        if st.get("phase") and st["phase"] not in phases:
            phases[st["phase"]] = round(time.perf_counter() - t0, 2)
        time.sleep(0.1)
    seconds = time.perf_counter() - t0
    run.request_stop()
    while run.status()["state"] == "running":
        time.sleep(0.5)
    record = run.history()[0]
    results = run.results() or {}
    return {"to_first_epoch_in_store_s": round(seconds, 2), "on_screen_worst_s": round(seconds + POLL_S, 2),
            "phase_reached_at_s": phases, "epoch_1_train_s": round(record["seconds"], 2),
            "epoch_1_valid_s": round(record.get("eval_seconds", 0.0), 2),
            "build_model_s": round(results.get("timings", {}).get("build_model_s", float("nan")), 2),
            "text_cache_hits": results.get("model_info", {}).get("text_cache_hits"),
            "valid_ndcg@10": record.get("valid", {}).get("ndcg@10")}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "app.json"))
    parser.add_argument("--skip-first-epoch", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("REC_CORE_DATA", str(REPO.parent / "shared" / "data"))
    work = Path(tempfile.mkdtemp(prefix="rec_core-bench-app-"))
    os.environ["REC_CORE_CACHE"] = str(work / "tiny-cache")
    report: dict[str, Any] = {
        "machine": {"cpus": len(os.sched_getaffinity(0)), "load_avg_at_start": os.getloadavg(),
                    "python": platform.python_version(), "platform": platform.platform()},
        "targets": TARGETS,
    }
    report["seed_store_s"] = round(seed_store(work / "runs50"), 1)
    report["render"] = render_times(work / "runs50")
    if not args.skip_first_epoch:
        cache = work / "text-cache"
        report["first_epoch_cold"] = first_epoch(work / "runs-launch", cache)
        report["first_epoch_warm"] = first_epoch(work / "runs-launch", cache)
    worst_render = max(v["rerender_median_s"] for v in report["render"].values())
    report["verdict"] = {"render_under_2s": worst_render < TARGETS["render_s"]}
    if not args.skip_first_epoch:
        report["verdict"]["first_epoch_cold_under_60s"] = (
            report["first_epoch_cold"]["on_screen_worst_s"] < TARGETS["first_epoch_cold_s"])
        report["verdict"]["first_epoch_warm_under_15s"] = (
            report["first_epoch_warm"]["on_screen_worst_s"] < TARGETS["first_epoch_warm_s"])
    report["machine"]["load_avg_at_end"] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
