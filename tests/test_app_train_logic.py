"""The Train page's decisions in rec_app, without Streamlit: form state, launch confirmation,
dataset availability, CSV checks, error labels, live-panel rows, estimates (issue 11)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rec_app.train.form_state import SAVED_KEY, apply_preset, restore, sync
from tests.rows import run_row


def test_form_state_restores_what_streamlit_dropped_and_keeps_what_it_holds() -> None:
    defaults = {"tr_epochs": 20, "tr_lr": 0.001}
    state: dict[str, object] = {}
    sync(state, defaults)
    assert restore(state, "tr_epochs") == "tr_epochs" and state["tr_epochs"] == 20  # drawn: set
    state["tr_epochs"] = 7  # submitted
    sync(state, defaults)
    del state["tr_epochs"]  # a run that does not draw the form
    sync(state, defaults)
    assert "tr_epochs" not in state  # nothing is set for a widget that is not drawn (it would go stale)
    restore(state, "tr_epochs")
    restore(state, "tr_lr")
    assert state["tr_epochs"] == 7 and state["tr_lr"] == 0.001
    state["tr_confirm_long"] = True  # a confirmation is never carried over
    sync(state, {})
    assert "tr_confirm_long" not in state[SAVED_KEY]  # type: ignore[operator]  # a dict, stored by sync


def test_a_preset_sets_the_widget_and_the_saved_copy() -> None:
    state: dict[str, object] = {}
    sync(state, {"tr_use_cache": True})
    apply_preset(state, "p", {"p": {"use_cache": False, "cached_epochs": -1}})
    assert state["tr_use_cache"] is False and state["tr_cached_epochs"] == -1
    del state["tr_use_cache"]
    sync(state, {"tr_use_cache": True})
    restore(state, "tr_use_cache")
    assert state["tr_use_cache"] is False
    apply_preset(state, None, {"p": {}})  # no preset: nothing changes
    assert state["tr_use_cache"] is False


def test_dataset_availability_comes_from_the_folder_not_the_wording(tmp_path: Path) -> None:
    from rec_app.train.datasets import availability

    assert availability({"state": "ready", "path": None}) == "ready"
    folder = tmp_path / "ml-100k"
    assert availability({"state": "missing", "path": str(folder), "detail": "incomplete: reworded"}) == "downloadable"
    folder.mkdir()
    assert availability({"state": "missing", "path": str(folder), "detail": "any words at all"}) == "incomplete"


# -- the estimate: phases, the queue, the confirmation rule ------------------------------------------
@pytest.mark.parametrize(
    "overrides",
    [
        {"preset": "scheme1"},
        {"preset": "scheme2"},
        {"preset": "scheme3"},
        {"preset": "scheme3", "cached_epochs": 2},
        {"preset": "scheme3", "cached_epochs": 9},
    ],
)
def test_the_estimates_phase_plan_is_the_models_own(overrides: dict[str, Any]) -> None:
    from rec_app.estimate import phase_plan
    from rec_core.configs import config_to_dict
    from rec_core.data import DataConfig, load_dataset
    from rec_core.models.enhanced import EnhancedConfig
    from rec_core.models.registry import build_model

    data = load_dataset(
        DataConfig(name="synthetic", synthetic_users=40, synthetic_items=30, synthetic_interactions_per_user=10)
    )
    preset = overrides.pop("preset")
    model_cfg = EnhancedConfig.from_preset(
        preset, backbone="tiny-gpt2", max_length=16, embed_dim=8, n_heads=2, **overrides
    )
    model = build_model(model_cfg, data)
    config = {"model": config_to_dict(model_cfg), "train": {"epochs": 5}}
    assert phase_plan(config) == [(name, n) for name, n, _ in model.fit_phases(5)]


def test_validations_follow_the_trainers_rule() -> None:
    from rec_app.estimate import validations

    assert validations({"model": {"name": "mf"}, "train": {"epochs": 6, "eval_every": 2}}) == {"train": 4}  # 1, 2, 4, 6
    scheme3 = {
        "model": {"name": "enhanced", "use_cache": False, "use_peft": True, "cached_epochs": -1},
        "train": {"epochs": 4},
    }
    assert validations(scheme3) == {"cached": 2, "dynamic": 2}
    assert validations({"model": {"name": "ease"}, "train": {}}) == {}


@pytest.mark.parametrize(
    ("model", "epochs", "threads"),
    [
        ({"name": "mf"}, 5, {2: 1, 16: 15}),
        ({"name": "gpt2rec"}, 5, {2: 1, 16: 15}),
        ({"name": "enhanced", "preset": "scheme1"}, 5, {2: 1, 1: 1}),
        ({"name": "enhanced", "use_attention": True}, 5, {2: 1}),  # cache mode by default
        ({"name": "enhanced", "preset": "scheme2"}, 5, {2: None}),  # every epoch dynamic
        ({"name": "enhanced", "preset": "scheme3"}, 4, {2: None}),  # cached, then dynamic
        ({"name": "enhanced", "preset": "scheme2", "use_peft": False}, 4, {2: None}),  # frozen, still encoding
        ({"name": "ease"}, 1, {2: None}),  # closed form: large matrix products
    ],
)
def test_the_app_leaves_a_core_free_for_models_without_dynamic_epochs(
    model: dict[str, Any], epochs: int, threads: dict[int, int | None]
) -> None:
    from rec_app.train.launch import with_app_threads

    config = {"model": model, "train": {"epochs": epochs}}
    for cores, expected in threads.items():
        assert with_app_threads(config, cores=cores)["train"].get("threads") == expected, (model, cores)
    if threads.get(2) is not None:  # several processes share the cores
        assert with_app_threads(config, cores=16, processes=4)["train"]["threads"] == 3
        assert with_app_threads(config, cores=2, processes=2)["train"]["threads"] == 1
    chosen = {"model": model, "train": {"epochs": epochs, "threads": 3}}
    assert with_app_threads(chosen, cores=2) == chosen  # a thread count in the config is kept


def test_the_threads_are_a_cost_setting_only_when_set() -> None:
    from rec_app.estimate import cost_signature

    mf = {"model": {"name": "mf"}, "train": {"batch_size": 512}}
    one = {"model": {"name": "mf"}, "train": {"batch_size": 512, "threads": 1}}
    assert cost_signature(one) != cost_signature(mf)  # a 2-thread run's seconds do not price a 1-thread one
    assert "threads" not in cost_signature(mf)  # runs made before keep their signature


def test_the_thread_count_does_not_change_the_metrics(tmp_path: Path) -> None:
    """The app picks threads for speed; the numbers must not depend on it (CPU, same seed)."""
    import torch

    from rec_core.experiment import RunConfig, execute_run, start_run
    from rec_core.runs import RunStore

    base = {
        "data": {
            "name": "synthetic",
            "synthetic_users": 60,
            "synthetic_items": 40,
            "synthetic_interactions_per_user": 10,
        },
        "model": {"name": "mf", "embed_dim": 8},
        "train": {"epochs": 2, "batch_size": 128, "device": "cpu"},
        "seed": 3,
    }
    before = torch.get_num_threads()
    try:
        store = RunStore(tmp_path)
        metrics = [
            execute_run(start_run(RunConfig.from_dict({**base, "train": {**base["train"], "threads": n}}), store))[
                "test"
            ]
            for n in (1, 2)
        ]
    finally:
        torch.set_num_threads(before)
    assert metrics[0] == metrics[1]


def test_the_queue_comes_first() -> None:
    from rec_app.estimate import schedule

    assert schedule([], [], [10.0, 10.0], parallel=1) == (0.0, 20.0)
    assert schedule([], [], [10.0, 10.0], parallel=2) == (0.0, 10.0)
    assert schedule([30.0], [50.0], [10.0], parallel=1) == (80.0, 90.0)  # behind the running and the queued run
    assert schedule([30.0], [50.0], [10.0, 10.0], parallel=2) == (30.0, 50.0)


def test_a_launch_needs_a_confirmation_when_long_or_unknown() -> None:
    from rec_app.estimate import needs_confirmation

    assert needs_confirmation(100.0, "ml-100k", limit_s=60) == "long"
    assert needs_confirmation(10.0, "ml-100k", limit_s=60) is None
    assert needs_confirmation(None, "ml-100k", limit_s=60) == "unknown"
    assert needs_confirmation(None, "synthetic", limit_s=60) is None  # seconds-long: no need to wait for a number


def test_what_a_running_run_has_left() -> None:
    from rec_app.estimate import Estimate, remaining_s

    own = Estimate(100.0, {"startup": 5, "loading": 5, "training": 60, "evaluation": 20, "testing": 10})
    assert remaining_s(run_row(duration_s=3.0, progress={}), own) == pytest.approx(97.0)
    halfway = run_row(duration_s=50.0, progress={"epoch": 1, "epochs": 4, "step": 5, "steps": 5, "step_epoch": 2})
    assert remaining_s(halfway, own) == pytest.approx(80 * 0.5 + 10)
    assert remaining_s(run_row(duration_s=3.0), None) is None


# -- the live panel ---------------------------------------------------------------------------------
def test_rows_name_their_seed_and_state_and_labels_are_unique() -> None:
    from datetime import datetime, timezone

    from rec_app.train.live_view import ordered, row_labels

    t0 = datetime(2026, 1, 1, 10, 0, tzinfo=timezone.utc)
    rows = [
        run_row(run_id="a", state="queued", seed=1, created_at=t0),
        run_row(run_id="b", state="running", seed=0, created_at=t0, started_at=t0),
        run_row(run_id="c", state="done", seed=0, created_at=t0.replace(hour=9), finished_at=t0),
    ]
    labels = row_labels(rows, "en")
    assert labels["a"] == "mf-ml-100k-ratio · seed 1 · queued" and labels["b"].endswith("seed 0 · 10:00:00 · running")
    assert len(set(labels.values())) == 3
    assert [r.run_id for r in ordered(rows)] == ["b", "a", "c"]  # running above queued
    assert row_labels(rows, "zh")["a"].endswith("种子 1 · 排队中")


def test_progress_inside_an_epoch_and_before_training() -> None:
    from datetime import datetime, timedelta, timezone

    from rec_app.train.live_view import STATE_ICONS, progress_view

    assert len(set(STATE_ICONS.values())) == len(STATE_ICONS)  # one icon per state
    training = run_row(
        phase="training",
        progress={
            "epoch": 1,
            "epochs": 4,
            "step": 10,
            "steps": 40,
            "step_epoch": 2,
            "steps_per_s": 0.25,
            "epoch_eta_s": 120.0,
        },
    )
    view = progress_view(training, {}, "en")
    assert view.fraction == pytest.approx((1 + 10 / 40) / 4)
    assert view.text == "epoch 2 of 4 · step 10 of 40 · 4.0 s per step · about 2 min left in this epoch"
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    encoding = run_row(phase="encoding text", progress={})
    status = {"phase_started_at": (now - timedelta(seconds=12)).isoformat()}
    view = progress_view(encoding, status, "en", now=now, phase_estimate_s=40.0)
    assert view.fraction == pytest.approx(0.3) and "12 s so far, about 28 s left" in view.text
    assert "12 s so far" in progress_view(encoding, status, "en", now=now).text
    queued = progress_view(run_row(state="queued"), {}, "en", queue_position=2)
    assert queued.fraction is None and "place 2" in queued.text


# -- issue 10: the default baseline, one rule for Compare and Error analysis ---------------------------
def test_one_baseline_rule_for_the_compare_selection_and_error_analysis(app_runs: Path) -> None:
    from rec_app.compare.groups import baseline_for_run, default_reference, group_runs, initial_selection
    from rec_app.runs.table import list_rows
    from rec_core.runs import RunStore

    rows = list_rows(RunStore(app_runs))
    groups = group_runs(rows)
    mf = next(g for g in groups if g.model == "mf")
    enhanced = next(g for g in groups if g.model == "enhanced")
    assert initial_selection([enhanced, mf], n=1) == [enhanced.key, mf.key]  # the newest, plus its reference
    assert initial_selection([mf, enhanced], n=2) == [mf.key, enhanced.key]
    assert default_reference([enhanced], groups) == mf.key
    for seed in (0, 1):
        a = next(r for r in rows if r.model == "enhanced" and r.seed == seed)
        b = baseline_for_run(a.run_id, rows)
        assert b == next(r.run_id for r in rows if r.model == "mf" and r.seed == seed)  # same seed's MF
    only_mf = [r for r in rows if r.model == "mf"]
    assert baseline_for_run(only_mf[0].run_id, only_mf) is None  # no other run of that seed
