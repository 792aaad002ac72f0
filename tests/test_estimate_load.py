"""Duration estimates on a busy machine (issue 11, item 2): seconds measured under one load are
priced for the load there is when a run is launched, runs ahead are priced from their own pace,
and the runs and calibrations record the load they were measured under."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rec_app import estimate as est
from rec_app.estimate import observed as observed_runs
from rec_app.runs.table import RunRow
from rec_core.runs.load import LoadSampler, busy_factor, machine_others, runnable_now
from tests.rows import run_row


def test_busy_factor_is_processor_sharing() -> None:
    assert busy_factor(0.0, 2, 2) == 1.0  # idle: as measured alone
    assert busy_factor(2.0, 2, 2) == 2.0  # two other threads on two cores: half of them
    assert busy_factor(1.0, 1, 2) == 1.0  # one thread beside one other: a core each
    assert busy_factor(3.0, 1, 2) == 2.0
    assert busy_factor(0.0, 4, 2) == 1.0  # more threads than cores: that is its idle speed already
    assert busy_factor(4.0, 4, 2) == 2.0
    assert busy_factor(-1.0, 2, 2) == 1.0


def test_the_sampler_counts_other_runnable_threads() -> None:
    sampler = LoadSampler(interval=0.05).start()
    others = sampler.stop()
    if runnable_now() is None:  # no procfs: nothing measured, estimates are not scaled
        assert others is None and sampler.finish() == {} and machine_others() is None
        return
    assert others is not None and others >= 0
    assert set(sampler.finish()) == {"others_runnable"}
    window = LoadSampler(window_s=0.0)
    window.sample()
    window.sample()
    assert window.n_samples == 1  # only the last window's samples count
    assert (machine_others() or 0.0) >= 0


@pytest.mark.skipif(runnable_now() is None, reason="needs procfs")
def test_our_own_child_processes_are_not_other_work() -> None:
    import subprocess
    import sys
    import time

    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])  # always runnable
    try:
        time.sleep(0.3)
        alone, with_children = runnable_now(), runnable_now(descendants=True)
        assert alone is not None and with_children is not None
        assert with_children[1] >= alone[1] + 1  # the child counts as ours
    finally:
        child.kill()
        child.wait()


def _profile(busy: float | None) -> est.Profile:
    return est.Profile(
        1000,
        100,
        50,
        {"cached": 1.0, "dynamic": 100.0},
        {"cached": 0.5, "dynamic": 2.0},
        load_s=1.0,
        build_s=2.0,
        test_s=3.0,
        startup_s=4.0,
        busy=busy,
    )


SCHEME3 = {
    "data": {"name": "synthetic", "synthetic_users": 100, "synthetic_items": 50},
    "split": {"kind": "ratio"},
    "model": {"name": "enhanced", "use_cache": False, "cached_epochs": 1, "use_peft": True},
    "train": {"epochs": 2, "threads": 2},
}
SIZE = est.DatasetSize(100, 50, 1250)


def test_an_estimate_is_priced_for_the_load_now() -> None:
    quiet = est.estimate(SCHEME3, SIZE, _profile(1.0), cache_warm=True, busy=1.0)
    assert quiet.busy == 1.0 and quiet.scale == 1.0
    assert quiet.epoch_s == pytest.approx((1.0 + 0.5, 100.0 + 2.0))  # each epoch and its validation
    assert sum(quiet.epoch_s) == pytest.approx(quiet.parts["training"] + quiet.parts["evaluation"])
    busy = est.estimate(SCHEME3, SIZE, _profile(1.0), cache_warm=True, busy=2.0)
    assert busy.total_s == pytest.approx(2 * quiet.total_s) and busy.busy == 2.0 and busy.scale == 2.0
    # Measured at twice the idle time, launched on an idle machine: half of it.
    measured_busy = est.estimate(SCHEME3, SIZE, _profile(2.0), cache_warm=True, busy=1.0)
    assert measured_busy.total_s == pytest.approx(quiet.total_s / 2)
    # The load it was measured under is unknown (an older calibration): as measured, not scaled.
    unknown = est.estimate(SCHEME3, SIZE, _profile(None), cache_warm=True, busy=3.0)
    assert unknown.busy is None and unknown.scale == 1.0
    assert est.rescale(unknown, 2.0) is unknown
    # Priced again for another load (the queue prices the runs ahead this way).
    again = est.rescale(quiet, 3.0)
    assert again.total_s == pytest.approx(3 * quiet.total_s) and again.epoch_s == pytest.approx(
        tuple(3 * v for v in quiet.epoch_s)
    )
    assert est.rescale(again, 1.0).total_s == pytest.approx(quiet.total_s)
    assert _profile(2.0).idle().epoch_s["dynamic"] == 50.0 and _profile(2.0).idle().busy == 1.0


def _running(progress: dict[str, Any], spent: float) -> RunRow:
    return run_row(
        model="enhanced",
        preset="scheme3",
        backbone="minilm",
        dataset="synthetic",
        duration_s=spent,
        phase="training",
        progress=progress,
    )


def test_a_running_run_is_priced_from_its_own_pace() -> None:
    own = est.estimate(SCHEME3, SIZE, _profile(1.0), cache_warm=True, startup_s=4.0, busy=1.0)
    before = own.parts["startup"] + own.parts["loading"]
    half = {"epoch": 1, "epochs": 2, "step": 5, "steps": 10, "step_epoch": 2}
    expected = own.epoch_s[0] + own.epoch_s[1] / 2  # the cached epoch, half of the dynamic one
    on_time = est.remaining_s(_running(half, before + expected), own)
    assert on_time == pytest.approx(own.epoch_s[1] / 2 + own.parts["testing"])
    # Twice as slow as estimated so far (a busy machine): twice the time left.
    slow = est.remaining_s(_running(half, before + 2 * expected), own)
    assert slow == pytest.approx(2 * on_time)
    # Its seconds of training from its status (the phase start the training phase keeps).
    from datetime import datetime, timedelta, timezone

    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    status = {"phase": "training", "phase_started_at": (now - timedelta(seconds=3 * expected)).isoformat()}
    assert est.trained_s(status, now) == pytest.approx(3 * expected)
    assert est.trained_s({**status, "phase": "encoding text"}, now) is None
    assert est.remaining_s(_running(half, 1.0), own, est.trained_s(status, now)) == pytest.approx(3 * on_time)
    # A start and loading slower than estimated leave no time for training: no pace of 0.
    assert est.remaining_s(_running(half, 1.0), own) == pytest.approx(on_time)
    # Too little done to judge a pace (under PACE_MIN_S estimated seconds): as estimated.
    start = {"epoch": 0, "epochs": 2, "step": 1, "steps": 10, "step_epoch": 1}
    assert est.remaining_s(_running(start, before + 100.0), own) == pytest.approx(
        own.epoch_s[0] * 0.9 + own.epoch_s[1] + own.parts["testing"]
    )


def test_finished_runs_keep_their_load_and_are_compared_as_on_an_idle_machine() -> None:
    results = {
        "timings": {
            "load_s": 0.5,
            "split_s": 0.5,
            "build_model_s": 1.0,
            "fit_s": 30.0,
            "test_s": 2.0,
            "total_s": 34.0,
            "others_runnable": 2.0,
        },
        "environment": {"torch_threads": 2, "cpu_count": 2},
        "dataset": {"n_users": 100, "n_items": 50},
        "split": {"n_train": 1000},
        "model": "mf",
    }
    history = [{"epoch": 1, "seconds": 10.0, "eval_seconds": 0.0}, {"epoch": 2, "seconds": 10.0}]
    found = observed_runs.profile_of_run(results, history)
    assert found is not None and found[0].busy == 2.0 and found[0].idle().epoch_s["train"] == 5.0
    older = json.loads(json.dumps(results))
    del older["timings"]["others_runnable"]  # recorded before runs sampled the load: unknown
    assert observed_runs.profile_of_run(older, history)[0].busy is None  # type: ignore[index]


def test_a_run_records_the_load_it_ran_under(tmp_path: Path) -> None:
    from rec_core.experiment import execute_run, start_run
    from rec_core.runs import RunStore
    from tests.app_store import tiny_config

    results = execute_run(start_run(tiny_config("mf", 0, epochs=1), RunStore(tmp_path / "runs")))
    if runnable_now() is not None:
        assert results["timings"]["others_runnable"] >= 0


def test_the_estimate_says_when_the_machine_is_busy(
    app_runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.app_store import as_the_form_makes_mf
    from tests.test_app_pages import button, no_failure, page, texts, tiny_mf

    monkeypatch.setenv("REC_CORE_RUNS", str(app_runs))
    monkeypatch.setenv("REC_CORE_CACHE", str(tmp_path / "cache"))
    as_the_form_makes_mf(app_runs)
    import rec_app.ui.estimates as estimates

    said = {}
    for load in (0.0, 10.0):
        monkeypatch.setattr(estimates, "machine_others", lambda load=load: load)
        at = tiny_mf(page("pages/1_Train.py"), embed_dim=16, batch_size=512, epochs=3)
        button(at, "Estimate duration").click().run()
        no_failure(at)
        said[load] = texts(at)
        assert "Estimated duration of one run" in said[load], said[load]
    if runnable_now() is not None:  # the finished runs recorded their load: their costs are scaled
        assert "slower than on an idle machine" not in said[0.0]
        assert "slower than on an idle machine" in said[10.0]


def test_each_run_that_waits_costs_the_next_warm_workers_imports() -> None:
    queued, mine = est.worker_starts([10.0], [5.0, 5.0], 0, 4.0)  # a run ahead holds the one slot
    assert queued == [14.0] and mine == [9.0, 9.0]
    queued, mine = est.worker_starts([], [5.0, 5.0], 1, 4.0)  # a free slot: the first starts at once
    assert queued == [] and mine == [5.0, 9.0]
    cal = est.estimate(SCHEME3, SIZE, _profile(1.0), cache_warm=True, basis="calibration", busy=2.0)
    assert cal.fresh_start_s == 8.0  # the calibration's timed imports, at this load
    runs = est.estimate(SCHEME3, SIZE, _profile(1.0), cache_warm=True, basis="runs", busy=1.0)
    assert runs.fresh_start_s == est.COLD_STARTUP_S  # a run's recorded start may be a warm hand-over
    assert est.rescale(runs, 2.0).fresh_start_s == 2 * est.COLD_STARTUP_S


def test_a_fresh_start_is_timed_by_the_folders_calibrations(tmp_path: Path) -> None:
    from rec_app.estimate import calibration as cal
    from rec_core.runs.atomic import write_json_atomic

    assert cal.fresh_start_s(tmp_path) is None  # nothing timed yet: the estimate's COLD_STARTUP_S
    profiles = {
        "a": {"profile": {**_profile(2.0).to_dict(), "startup_s": 8.0}},  # 4 s on an idle machine
        "b": {"profile": {**_profile(None).to_dict(), "startup_s": 6.0}},
        "c": {"error": "failed"},
    }
    write_json_atomic(tmp_path / cal.CALIBRATION_FILE, {"profiles": profiles})
    assert cal.fresh_start_s(tmp_path) == pytest.approx(5.0)
