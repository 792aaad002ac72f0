"""The Train page's Processes field through AppTest (issue 12, "Beyond one machine"): drawn with
its help in both languages, kept across pages like the other fields, and a launch with 2 queues a
run whose command is torchrun's with 2 processes, taking 2 of the queue's slots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rec_core.runs import RunQueue, RunStore
from tests.test_app_pages import button, no_failure, page, texts
from tests.test_app_train import submit


@pytest.fixture()
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunStore:
    """An empty store whose only slot is taken (so a launched run stays queued), on a CPU machine
    with at least 4 cores whatever the test machine has."""
    import torch

    monkeypatch.setenv("REC_CORE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("REC_CORE_CACHE", str(tmp_path / "cache"))
    real = os.cpu_count() or 1
    monkeypatch.setattr(os, "cpu_count", lambda: max(4, real))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    store = RunStore(tmp_path / "runs")
    store.create({}, run_id="blocker").set_status("running", pid=os.getpid())
    return store


def test_the_processes_field_is_kept_and_a_launch_with_two_queues_torchrun(store: RunStore) -> None:
    at = page("pages/1_Train.py")
    no_failure(at)
    field = at.number_input(key="tr_processes")
    assert field.label == "Processes" and field.value == 1
    assert "batch size × processes" in (field.help or "")
    at.selectbox(key="tr_dataset").set_value("synthetic")
    at.selectbox(key="tr_model").set_value("mf").run()
    at.number_input(key="tr_syn_users").set_value(120)
    at.number_input(key="tr_syn_items").set_value(90)
    at.number_input(key="tr_epochs").set_value(2)
    at.number_input(key="tr_processes").set_value(2)
    submit(at)
    at.switch_page("pages/2_Compare.py").run()
    at.switch_page("app.py").run()
    at.switch_page("pages/1_Train.py").run()
    no_failure(at)
    assert at.number_input(key="tr_processes").value == 2
    button(at, "Launch").click().run()
    no_failure(at)
    assert any("1 run(s) launched" in s.value for s in at.toast), [s.value for s in at.toast]
    [run_id] = [r for r in store.run_ids() if r != "blocker"]
    try:
        st = store.get(run_id).status()
        assert st["state"] == "queued" and st["processes"] == 2  # one slot is busy: 2 do not fit
        assert st["command"][1:7] == ["-m", "rec_core.torchrun", "--standalone", "--nproc_per_node", "2", "-m"]
        assert st["command"][7:10] == ["rec_core", "execute", run_id]
        assert "2 processes" in texts(at)  # the live panel's row says it
    finally:
        RunQueue(store).stop(run_id)  # never started by the app's ticker after the test


def test_the_processes_field_in_chinese(store: RunStore) -> None:
    at = page("pages/1_Train.py", lang="zh")
    no_failure(at)
    field = at.number_input(key="tr_processes")
    assert field.label == "进程数" and "批大小 × 进程数" in (field.help or "")


def test_a_multi_process_run_is_priced_with_its_fresh_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 23 item 6: Processes=2 was estimated 12 s and took 33 s: torchrun's launcher and its
    # two processes each import torch afresh (17 s not priced; one process uses the warm worker).
    from rec_app import estimate as est
    from rec_app.estimate import costs

    monkeypatch.setattr(costs, "cores", lambda: 2)
    one = est.Estimate(12.0, {"startup": 1.0, "loading": 2.0, "training": 8.0, "testing": 1.0})
    two = est.with_processes(one, 2, fresh_start_s=10.0)
    assert two.parts["startup"] == 20.0 and two.total_s == 31.0  # launcher + one round of 2 on 2 cores
    assert est.with_processes(one, 4, fresh_start_s=10.0).parts["startup"] == 30.0  # two rounds
    assert est.with_processes(one, 1, fresh_start_s=10.0) is one
