"""Launching from the Train page: the background queue, stop, a killed process, two tabs at
once, a folder deleted while shown. Real `python -m rec_core execute` processes, tiny runs."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rec_app.train.launch import submit_runs
from rec_core.experiment import RunConfig
from rec_core.runs import RunQueue, RunStore
from tests.app_store import tiny_config

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def wait_for(predicate: Callable[[], bool], timeout: float = 240.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)


def state(store: RunStore, run_id: str) -> str:
    return store.get(run_id).status()["state"]


@pytest.fixture()
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunStore:
    monkeypatch.setenv("REC_CORE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("REC_CORE_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)  # children must find this checkout's rec_core from anywhere
    return RunStore(tmp_path / "runs")


def train_page() -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state["lang"] = "en"
    at.switch_page("pages/1_Train.py")
    return at.run()


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_launch_from_the_page_runs_in_the_background_and_shows_progress(
    store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 23 item 10: once the live panel shows a run finished, its first UMAP layouts are
    # computed in the background (recorded here instead of computed: UMAP would cost a minute).
    import rec_core.analysis.projection_cache as projection_cache

    monkeypatch.setenv("REC_CORE_PRECOMPUTE_PROJECTIONS", "1")
    precomputed: list[str] = []
    monkeypatch.setattr(projection_cache, "precompute_run", lambda run_dir, stamp: precomputed.append(run_dir) or 0)
    at = train_page()
    at.selectbox(key="tr_dataset").set_value("synthetic")
    at.selectbox(key="tr_model").set_value("mf").run()
    at.number_input(key="tr_syn_users").set_value(120)
    at.number_input(key="tr_syn_items").set_value(90)
    at.number_input(key="tr_epochs").set_value(2)
    at.text_input(key="tr_seeds").set_value("0, 1")
    button(at, "Launch").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("2 run(s) launched" in s.value for s in at.toast), [s.value for s in at.toast]
    ids = store.run_ids()
    assert len(ids) == 2
    # One at a time (max_parallel 1): never two running together.
    states = [state(store, r) for r in ids]
    assert states.count("running") <= 1 and set(states) <= {"queued", "running", "done"}
    assert len(at.expander) == 2  # the live panel follows both, one row each
    wait_for(lambda: all(state(store, r) == "done" for r in ids), what="both runs done")
    at.run()  # the live panel now shows them finished, with metrics
    assert not at.exception and len(at.expander) == 2
    assert all(len(store.get(r).history()) == 2 for r in ids)
    assert any(m.label == "test NDCG@10" for m in at.metric)  # the live panel says which split
    wait_for(lambda: sorted(Path(d).name for d in precomputed) == sorted(ids), what="layouts precomputed")
    at.run()  # shown finished again: each run is handed over once per server
    time.sleep(1.0)
    assert len(precomputed) == 2
    for r in ids:
        assert store.get(r).status()["command"][1:4] == ["-m", "rec_core", "execute"]


def test_stop_button_stops_cleanly_with_best_weights(store: RunStore) -> None:
    queue = RunQueue(store, max_parallel=1)
    [run_id] = submit_runs(store, queue, [tiny_config("mf", 0, epochs=400)])
    wait_for(lambda: len(store.get(run_id).history()) >= 2, what="two epochs")
    at = train_page()
    at.button(key=f"stop_{run_id}").click().run()
    assert not at.exception
    wait_for(lambda: state(store, run_id) == "stopped", what="stopped")
    results = store.get(run_id).results()
    assert results["stopped"] is True and 1 <= results["best_epoch"] <= results["epochs_run"] < 400
    assert store.get(run_id).read_table("per_user_test").shape[0] > 0
    at.run()
    assert any("Stopped on request" in i.value for i in at.info)


def test_a_killed_process_shows_its_error_and_others_carry_on(store: RunStore) -> None:
    queue = RunQueue(store, max_parallel=2)
    victim, other = submit_runs(store, queue, [tiny_config("mf", 0, epochs=400), tiny_config("mf", 1, epochs=2)])
    wait_for(lambda: len(store.get(victim).history()) >= 1, what="first epoch")
    os.kill(store.get(victim).status()["pid"], signal.SIGKILL)  # the process we launched above
    wait_for(lambda: state(store, victim) == "failed", what="failure noticed")
    assert "died without finishing" in store.get(victim).status()["error"]
    at = train_page()
    assert not at.exception
    assert any("died without finishing" in e.value for e in at.error)  # the text, not a traceback
    assert not any("Traceback" in e.value for e in at.error)
    wait_for(lambda: state(store, other) == "done", what="the other run")


def test_two_tabs_launching_at_once_never_start_a_run_twice(store: RunStore) -> None:
    configs = [tiny_config("mf", s, epochs=1) for s in (0, 1)]
    ids: list[list[str]] = []
    errors: list[BaseException] = []

    def tab(config: RunConfig) -> None:  # each tab has its own queue object, as in two sessions
        try:
            ids.append(submit_runs(store, RunQueue(store, max_parallel=1), [config]))
        except BaseException as exc:  # noqa: BLE001 - any failure in a thread is asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=tab, args=(c,)) for c in configs]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors and len(ids) == 2
    run_ids = [i for part in ids for i in part]
    running = [r for r in run_ids if state(store, r) == "running"]
    assert len(running) <= 1
    queue = RunQueue(store, max_parallel=1)
    pids: set[int] = set()

    def progressed() -> bool:
        queue.tick()  # what the app's ticker does every two seconds
        for r in run_ids:
            pid = store.get(r).status().get("pid")
            if pid:
                pids.add(pid)
        return all(state(store, r) == "done" for r in run_ids)

    wait_for(progressed, what="both runs done")
    assert len(pids) == 2
    for r in run_ids:  # each run was executed exactly once
        log = store.get(r).log_tail()
        assert log.count("run folder:") == 1, log


def test_a_run_deleted_while_shown_is_reported_and_the_page_keeps_working(store: RunStore) -> None:
    queue = RunQueue(store, max_parallel=1)
    [run_id] = submit_runs(store, queue, [tiny_config("mf", 0, epochs=400)])
    at = train_page()
    at.session_state["launched_runs"] = [run_id]
    wait_for(lambda: len(store.get(run_id).history()) >= 1, what="first epoch")
    pid = store.get(run_id).status()["pid"]
    store.delete(run_id, force=True)  # while its process is still writing
    at.run()
    assert not at.exception
    assert any("was deleted" in w.value for w in at.warning)
    at.run()  # still said on the next poll, and nothing else breaks
    assert not at.exception and any("was deleted" in w.value for w in at.warning)
    wait_for(lambda: not _alive(pid), timeout=60, what="the orphaned process to give up")


def _alive(pid: int) -> bool:
    from rec_core.runs import pid_alive

    return pid_alive(pid)
