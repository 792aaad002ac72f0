"""The equal-budget control on the Train page and in Compare: one checkbox (offered with a warm
start) queues "MF continued" beside a warm-started text model (same seed, same train config,
same MF run), the page names the MF run each seed starts from, and Compare judges the model
against that control with MF from scratch beside it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from rec_core.experiment import RunConfig, execute_run, start_run
from rec_core.models.mf import MFConfig
from rec_core.runs import RunQueue, RunStore
from rec_core.train import TrainConfig
from rec_core.warm_start import SMOKE_EPOCHS
from tests.app_store import TINY_DATA
from tests.test_app_pages import button, no_failure, page, texts

MF_ID = "mf-trained-s0"


@pytest.fixture()
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunStore:
    """A store with a trained MF run of seed 0 (what `auto` starts from) and a running blocker
    holding the queue's one slot, so that launched runs stay queued."""
    monkeypatch.setenv("REC_CORE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("REC_CORE_CACHE", str(tmp_path / "cache"))
    store = RunStore(tmp_path / "runs")
    train = TrainConfig(epochs=SMOKE_EPOCHS, batch_size=512, patience=0, device="cpu", threads=1)
    execute_run(start_run(RunConfig(data=TINY_DATA, model=MFConfig(embed_dim=16), train=train), store, MF_ID))
    store.create({}, run_id="blocker").set_status("running", pid=os.getpid())
    return store


def _text_model_form(store: RunStore, warm: bool = False) -> object:
    """The Train page filled for a tiny GPT2Recommender on the store's data (not submitted);
    the warm-start switch, drawn above the form, first (a rerun drops the form's unsent values)."""
    at = page("pages/1_Train.py")
    at.selectbox(key="tr_dataset").set_value("synthetic")
    at.selectbox(key="tr_model").set_value("gpt2rec").run()
    no_failure(at)
    # Set either way: the Train page may open on a warm recipe (the ratio split's preset).
    at.toggle(key="tr_warm_start").set_value(warm).run()
    at.selectbox(key="tr_backbone").set_value("tiny-gpt2")
    for key, value in {"syn_users": 120, "syn_items": 90, "embed_dim": 16, "epochs": 2, "patience": 5}.items():
        at.number_input(key=f"tr_{key}").set_value(value)
    at.text_input(key="tr_seeds").set_value("0")
    return at


def test_one_click_queues_mf_continued_beside_the_warm_started_model(store: RunStore) -> None:
    at = _text_model_form(store, warm=True)
    at.checkbox(key="tr_with_control").set_value(True)
    button(at, "Estimate duration").click().run()
    no_failure(at)
    assert f"0 → `{MF_ID}`" in texts(at)  # which MF run the seed starts from, before launch
    button(at, "Launch").click().run()
    no_failure(at)
    launched = [r for r in store.run_ids() if r not in ("blocker", MF_ID)]
    try:
        assert len(launched) == 2
        configs = {RunConfig.from_dict(store.get(r).config()).model.name: store.get(r).config() for r in launched}
        text, control = RunConfig.from_dict(configs["gpt2rec"]), RunConfig.from_dict(configs["mf"])
        assert control.model == MFConfig(embed_dim=16, init_from_run="auto")
        assert text.model.init_from_run == "auto"
        assert control.train == text.train and control.seed == text.seed == 0
        assert all(store.get(r).status()["state"] == "queued" for r in launched)
    finally:
        for run_id in launched:
            RunQueue(store).stop(run_id)  # never started by the app's ticker after the test


def test_the_control_is_offered_only_with_a_warm_start(store: RunStore) -> None:
    at = _text_model_form(store)
    assert not [c for c in at.checkbox if c.key == "tr_with_control"]  # no warm start: nothing to control for
    at = _text_model_form(store, warm=True)
    assert at.checkbox(key="tr_with_control").value is False  # offered, off by default
    at.checkbox(key="tr_with_control").set_value(True)
    button(at, "Estimate duration").click().run()  # the form's values sent, the checkbox on
    at.toggle(key="tr_warm_start").set_value(False).run()  # then the warm start switched off again
    assert not [c for c in at.checkbox if c.key == "tr_with_control"]
    button(at, "Launch").click().run()
    no_failure(at)  # the hidden checkbox applies nothing: one run, no control, no refusal
    launched = [r for r in store.run_ids() if r not in ("blocker", MF_ID)]
    try:
        assert [RunConfig.from_dict(store.get(r).config()).model.name for r in launched] == ["gpt2rec"]
    finally:
        for run_id in launched:
            RunQueue(store).stop(run_id)


def test_compare_judges_the_warm_started_model_against_its_control(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from rec_core.models.gpt2rec import GPT2RecConfig
    from rec_core.warm_start import equal_budget_control

    monkeypatch.setenv("REC_CORE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("REC_CORE_CACHE", str(tmp_path / "cache"))
    store = RunStore(tmp_path / "runs")
    trained = TrainConfig(epochs=SMOKE_EPOCHS, batch_size=512, patience=0, device="cpu", threads=1)
    execute_run(start_run(RunConfig(data=TINY_DATA, model=MFConfig(embed_dim=16), train=trained), store, MF_ID))
    text = GPT2RecConfig(backbone="tiny-gpt2", max_length=16, embed_dim=16, init_from_run="auto")
    warm = RunConfig(data=TINY_DATA, model=text, train=dataclasses.replace(trained, epochs=2, lr=0.003))
    execute_run(start_run(warm, store, "warm-s0"))
    execute_run(start_run(equal_budget_control(warm), store, "control-s0"))
    at = page("pages/2_Compare.py")
    no_failure(at)
    assert len(at.multiselect(key="cmp_sel").value) == 3  # the three newest groups: all of them
    shown = texts(at)
    assert "Against the equal-budget control (MF continued)" in shown
    assert any("warm** vs MF continued" in m.value for m in at.markdown), [m.value for m in at.markdown]
    assert re.search(r"Differences to MF(?! continued)", shown)  # MF from scratch stays the page's reference
    sources = [d.value for d in at.dataframe if "Started from MF run" in d.value.columns]
    assert sources and set(sources[0]["Started from MF run"]) == {MF_ID}  # the text model's and the control's
