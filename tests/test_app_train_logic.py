"""The Train page's decisions in rec_app, without Streamlit: form state, launch confirmation,
dataset availability, CSV checks, error labels, live-panel rows, estimates (issue 11)."""
from __future__ import annotations

from pathlib import Path

from rec_app.form_state import SAVED_KEY, apply_preset, sync


def test_form_state_restores_what_streamlit_dropped_and_keeps_what_it_holds() -> None:
    state: dict[str, object] = {}
    sync(state, {"tr_epochs": 20, "tr_lr": 0.001})
    assert state["tr_epochs"] == 20
    state["tr_epochs"] = 7  # submitted
    sync(state, {"tr_epochs": 20, "tr_lr": 0.001})
    del state["tr_epochs"], state["tr_lr"]  # a page that does not draw the form
    sync(state, {"tr_epochs": 20, "tr_lr": 0.001})
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
    assert state["tr_use_cache"] is False
    apply_preset(state, None, {"p": {}})  # no preset: nothing changes
    assert state["tr_use_cache"] is False


def test_dataset_availability_comes_from_the_folder_not_the_wording(tmp_path: Path) -> None:
    from rec_app.datasets import availability

    assert availability({"state": "ready", "path": None}) == "ready"
    folder = tmp_path / "ml-100k"
    assert availability({"state": "missing", "path": str(folder), "detail": "incomplete: reworded"}) == "downloadable"
    folder.mkdir()
    assert availability({"state": "missing", "path": str(folder), "detail": "any words at all"}) == "incomplete"
