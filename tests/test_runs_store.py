"""RunStore: file round trips, atomic create, tolerant readers, liveness computed on read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

import pandas as pd
import pytest
import torch

from rec_core.errors import ConfigError
from rec_app.runs.table import list_rows
from rec_core.runs import (
    CorruptRunFile,
    RunFileNotFound,
    RunNotFound,
    RunStore,
    environment_info,
    new_run_id,
    pid_alive,
    read_jsonl,
    validate_run_id,
    write_json_atomic,
)
from rec_core.runs.environment import process_start_token
from rec_core.runs.summary import COMPLETION_STATES, completion_summary, duration_s, primary_test_metrics


@pytest.fixture()
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "runs")


def visible_entries(store: RunStore) -> list[str]:
    return sorted(os.listdir(store.root))


# -- ids ---------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["../x", "a/b", "", ".hidden", "a..b", "x\n", "a\\b", "-x", "a" * 129, None])
def test_invalid_run_ids_raise_config_error_naming_run_id(bad: object) -> None:
    with pytest.raises(ConfigError) as info:
        validate_run_id(bad)  # type: ignore[arg-type]  # non-strings on purpose
    assert info.value.field == "run_id"


def test_valid_run_ids_pass() -> None:
    for good in ["a", "mf-ml-100k_s0.v2", "A" * 128]:
        assert validate_run_id(good) == good


def test_new_run_id_is_sanitised_and_timestamped() -> None:
    run_id = new_run_id("mf ml/100k..ratio")
    assert run_id.startswith("mf-ml-100k.ratio-")
    stamp_date, stamp_time, suffix = run_id.split("-")[-3:]
    assert len(stamp_date) == 8 and len(stamp_time) == 6 and len(suffix) == 4
    assert new_run_id("../..").startswith("run-")
    assert validate_run_id(new_run_id("x" * 500)) and len(new_run_id("x" * 500)) <= 128


def test_get_unknown_and_create_existing(store: RunStore) -> None:
    with pytest.raises(RunNotFound):
        store.get("nope")
    store.create({"a": 1}, run_id="r1")
    with pytest.raises(ConfigError, match="already exists") as info:
        store.create({"a": 2}, run_id="r1")
    assert info.value.field == "run_id"
    assert store.get("r1").config() == {"a": 1}
    with pytest.raises(ConfigError):
        store.create({"a": 1}, run_id="../escape")


# -- round trips -------------------------------------------------------------------------
def test_round_trip_of_every_file_kind(store: RunStore) -> None:
    run = store.create({"model": "mf", "dim": 64}, prefix="mf-test")
    assert run.config() == {"model": "mf", "dim": 64}
    st = run.status()
    assert st["state"] == "queued" and st["created_at"] and st["finished_at"] is None

    running = run.set_status("running", phase="train", progress={"epoch": 1, "epochs": 3})
    assert running["started_at"] and running["progress"] == {"epoch": 1, "epochs": 3}
    assert run.status()["phase"] == "train"
    done = run.set_status("done")
    assert done["finished_at"] and done["phase"] == "train" and run.status()["state"] == "done"
    with pytest.raises(ConfigError) as info:
        run.set_status("finished")
    assert info.value.field == "state"

    assert run.history() == []
    run.append_history({"epoch": 1, "loss": 0.5})
    run.append_history({"epoch": 2, "loss": float("nan")})
    hist = run.history()
    assert hist[0] == {"epoch": 1, "loss": 0.5} and hist[1]["epoch"] == 2

    assert run.results() is None
    results = {"test": {"NDCG@10": 0.25, "Hit@10": 0.7, "n_users": 943}, "valid": {}}
    run.write_results(results)
    assert run.results() == results

    df = pd.DataFrame({"user": [1, 2, 3], "ndcg@10": [0.1, float("nan"), 0.3]})
    run.write_table("per_user_test", df)
    pd.testing.assert_frame_equal(run.read_table("per_user_test"), df)
    with pytest.raises(RunFileNotFound):
        run.read_table("ranks_test")
    with pytest.raises(ConfigError):
        run.write_table("../x", df)

    weight = torch.randn(4, 3)
    tensors = {"w": weight, "w_tied": weight, "w_t": weight.t(), "idx": torch.arange(5)}
    run.save_checkpoint(tensors, {"model": "mf", "config": json.dumps({"dim": 3})})
    loaded, meta = run.load_checkpoint()
    assert set(loaded) == set(tensors)
    for name, tensor in tensors.items():
        assert torch.equal(loaded[name], tensor)
    assert meta == {"model": "mf", "config": json.dumps({"dim": 3})}
    with pytest.raises(ConfigError):
        run.save_checkpoint(tensors, {"epochs": 3})  # type: ignore[dict-item]  # a non-tensor on purpose

    run.write_artifact("attention_user_7", {"heads": [[0.5, 0.5]], "tokens": ["a", "b"]})
    run.write_artifact("order", [3, 1, 2])
    assert run.read_artifact("attention_user_7")["tokens"] == ["a", "b"]
    assert run.read_artifact("order") == [3, 1, 2]
    with pytest.raises(RunFileNotFound):
        run.read_artifact("missing")

    assert not run.stop_requested()
    run.request_stop()
    assert run.stop_requested()
    run.clear_stop()
    assert not run.stop_requested()

    (run.path / "log.txt").write_text("line 1\nline 2\n")
    assert run.log_tail(max_bytes=7) == "line 2\n"

    [summary] = store.list()
    assert summary.state == "done" and summary.metrics == {"NDCG@10": 0.25, "Hit@10": 0.7}
    assert summary.completion == {}  # a run written before completion records existed
    run.write_results(
        {
            **results,
            "completion": {
                "state": "finished",
                "reason": "max_epochs",
                "epochs_completed": 3,
                "best_epoch": 2,
                "best_phase": "train",
            },
        }
    )
    assert store.list()[0].completion["best_epoch"] == 2
    run.write_results(results)
    assert summary.config["dim"] == 64 and summary.duration_s is not None
    # No temporary files left beside the real ones.
    assert not [p for p in run.path.rglob("*.tmp")]


def test_write_json_atomic_keeps_old_file_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    write_json_atomic(path, {"v": 1})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"v": object()})
    assert json.loads(path.read_text()) == {"v": 1}
    assert os.listdir(tmp_path) == ["x.json"]


# -- atomic create -----------------------------------------------------------------------
def _fail_json_dump_midway(obj: object, f: IO[str], **kwargs: object) -> None:
    f.write('{"half": ')
    raise OSError("disk full")


@pytest.mark.parametrize(
    ("target", "name", "replacement"),
    [
        (os, "replace", lambda *a, **k: (_ for _ in ()).throw(OSError("replace failed"))),
        (os, "rename", lambda *a, **k: (_ for _ in ()).throw(OSError("rename failed"))),
        (json, "dump", _fail_json_dump_midway),
    ],
)
def test_create_failure_leaves_nothing_behind(
    store: RunStore, monkeypatch: pytest.MonkeyPatch, target: object, name: str, replacement: object
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(target, name, replacement)
        with pytest.raises(OSError):
            store.create({"a": 1}, run_id="r1")
    assert visible_entries(store) == []
    assert store.list() == []
    assert store.create({"a": 1}, run_id="r1").config() == {"a": 1}


def test_list_skips_leftover_temp_folders(store: RunStore) -> None:
    # What a crash (SIGKILL) in the middle of create would leave.
    (store.root / ".tmp-r9-abcd").mkdir()
    (store.root / ".tmp-r9-abcd" / "config.json").write_text("{")
    (store.root / ".trash-r8-abcd").mkdir()
    assert store.list() == []


# -- tolerant readers --------------------------------------------------------------------
def test_torn_history_line_is_tolerated(store: RunStore) -> None:
    run = store.create({}, run_id="r1")
    run.append_history({"epoch": 1})
    run.append_history({"epoch": 2})
    with open(run.path / "history.jsonl", "ab") as f:
        f.write(b'{"epoch": 3, "lo')  # the writer died mid-line
    assert [r["epoch"] for r in run.history()] == [1, 2]
    run.append_history({"epoch": 3})  # a resumed writer starts on a fresh line
    assert [r["epoch"] for r in run.history()] == [1, 2, 3]
    assert read_jsonl(run.path / "missing.jsonl") == []


def test_corrupt_files_show_as_corrupt_and_spare_other_runs(store: RunStore) -> None:
    good = store.create({"n": 1}, run_id="good")
    good.write_results({"test": {"NDCG@10": 0.3}})
    bad_results = store.create({"n": 2}, run_id="bad-results")
    (bad_results.path / "results.json").write_text('{"test": ')
    no_status = store.create({"n": 3}, run_id="no-status")
    (no_status.path / "status.json").unlink()
    odd_state = store.create({"n": 4}, run_id="odd-state")
    write_json_atomic(odd_state.path / "status.json", {"state": "banana"})

    rows = {s.run_id: s for s in store.list()}
    assert rows["good"].state == "queued" and rows["good"].metrics == {"NDCG@10": 0.3}
    assert rows["bad-results"].state == "corrupt" and "results.json" in rows["bad-results"].error
    assert rows["no-status"].state == "corrupt" and "status.json" in rows["no-status"].error
    assert rows["odd-state"].state == "corrupt" and "banana" in rows["odd-state"].error
    with pytest.raises(CorruptRunFile, match="results.json"):
        bad_results.results()
    (good.path / "model.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(CorruptRunFile, match="model.safetensors"):
        good.load_checkpoint()


def test_list_is_newest_first(store: RunStore) -> None:
    for run_id in ["first", "second", "third"]:
        store.create({}, run_id=run_id)
    assert [s.run_id for s in store.list()] == ["third", "second", "first"]


def test_delete_is_complete_and_refuses_live_runs(store: RunStore) -> None:
    run = store.create({}, run_id="r1")
    run.set_status("running", pid=os.getpid())
    with pytest.raises(ConfigError, match="running"):
        store.delete("r1")
    store.delete("r1", force=True)
    assert visible_entries(store) == []
    with pytest.raises(RunNotFound):
        store.delete("r1")


# -- liveness ----------------------------------------------------------------------------
def test_running_run_whose_process_died_reads_as_failed(store: RunStore) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    run = store.create({}, run_id="killed")
    run.set_status("running", pid=proc.pid)
    st = run.status()
    assert st["state"] == "failed"
    assert st["error"] == f"process {proc.pid} died without finishing (killed?)"
    assert store.list()[0].state == "failed"
    assert run.raw_status()["state"] == "running"  # computed on read, file untouched

    alive = store.create({}, run_id="alive")
    alive.set_status("running", pid=os.getpid())
    assert alive.status()["state"] == "running"
    elsewhere = store.create({}, run_id="elsewhere")
    elsewhere.set_status("running", pid=proc.pid, hostname="another-host")
    assert elsewhere.status()["state"] == "running"  # cannot judge another host's pid


def test_pid_alive_sees_zombies_and_pid_reuse() -> None:
    assert pid_alive(os.getpid(), process_start_token(os.getpid()))
    assert not pid_alive(0)
    if process_start_token(os.getpid()) is None:
        pytest.skip("no procfs")
    assert not pid_alive(os.getpid(), "other-boot:1")
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while pid_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.02)  # exited but not reaped: a zombie
    assert not pid_alive(proc.pid)
    proc.wait()


def test_environment_info_has_versions() -> None:
    info = environment_info("cpu")
    assert info["device"] == "cpu" and info["torch"] == torch.__version__
    assert info["cuda_device"] is None and info["torch_threads"] >= 1
    for key in ["python", "platform", "numpy", "transformers", "peft", "rec_core", "cpu_count"]:
        assert key in info


def test_completion_summaries_say_how_a_run_ended() -> None:
    assert completion_summary(
        {
            "state": "finished",
            "reason": "early_stopped",
            "epochs_completed": 12,
            "best_epoch": 3,
            "best_phase": "cached",
            "note": "the dynamic phase did not improve validation",
        }
    ) == (
        "finished: early-stopped after 12 epochs; best epoch 3, cached phase: "
        "the dynamic phase did not improve validation"
    )
    assert (
        completion_summary(
            {"state": "finished", "reason": "max_epochs", "epochs_completed": 5, "best_epoch": 5, "best_phase": "train"}
        )
        == "finished: all 5 epochs; best epoch 5"
    )
    assert (
        completion_summary(
            {"state": "finished", "reason": "fitted", "epochs_completed": 0, "best_epoch": 0, "best_phase": None}
        )
        == "finished: fitted (no gradient training)"
    )
    assert completion_summary({"state": "stopped", "reason": "user_stop", "epochs_completed": 0}) == (
        "stopped by the user: no epoch completed"
    )
    assert completion_summary(
        {"state": "stopped", "reason": "user_stop", "epochs_completed": 4, "best_epoch": 4, "best_phase": "dynamic"}
    ) == ("stopped by the user after epoch 4; best epoch 4, dynamic phase")
    assert completion_summary({"state": "stopped", "reason": "interrupted", "epochs_completed": 2}) == (
        "interrupted after epoch 2"
    )
    assert completion_summary({"state": "failed", "reason": "error", "epochs_completed": 0}) == (
        "failed before the first epoch completed"
    )
    assert set(COMPLETION_STATES) == {"finished", "stopped", "failed"}


def test_rows_of_failed_and_stopped_runs_carry_their_completion(store: RunStore) -> None:
    failed = store.create({"model": {"name": "mf"}}, run_id="failed")
    failed.set_status(
        "failed",
        error="boom",
        completion={"state": "failed", "reason": "error", "epochs_completed": 2, "summary": "failed after epoch 2"},
    )
    stopped = store.create({"model": {"name": "mf"}}, run_id="stopped")
    stopped.set_status(
        "stopped",
        completion={
            "state": "stopped",
            "reason": "user_stop",
            "epochs_completed": 0,
            "summary": "stopped by the user: no epoch completed",
        },
    )
    rows = {r.run_id: r for r in list_rows(store)}
    assert rows["failed"].completion["reason"] == "error" and rows["failed"].error == "boom"
    assert rows["stopped"].no_epoch and not rows["stopped"].comparable and rows["stopped"].error is None


# -- one run listing: the app's rows are the store's summaries ---------------------------
def test_app_rows_and_store_summaries_agree_on_every_fact(store: RunStore) -> None:
    metrics = {"ndcg@10": 0.25, "hit@10": 0.5, "ndcg@20": 0.3}
    done = store.create({"model": {"name": "mf"}}, run_id="done")
    done.write_results({"test": {"primary": {"metrics": metrics, "n_users": 9}}})
    done.set_status("running")
    done.set_status("done")
    stopped = store.create({"model": {"name": "mf"}}, run_id="stopped-bad-results")
    stopped.set_status("stopped")
    (stopped.path / "results.json").write_text('{"test": ')
    store.create({"model": {"name": "mf"}}, run_id="queued")
    bad_config = store.create({}, run_id="bad-config")
    (bad_config.path / "config.json").write_text("[]")

    summaries = {s.run_id: s for s in store.list()}
    rows = {r.run_id: r for r in list_rows(store)}
    assert [r.run_id for r in list_rows(store)] == [s.run_id for s in store.list()]
    for run_id, summary in summaries.items():
        row = rows[run_id]
        assert (row.state, row.error, row.metrics, row.duration_s, row.completion, row.has_results) == (
            summary.state,
            summary.error,
            summary.metrics,
            summary.duration_s,
            summary.completion,
            summary.has_results,
        ), run_id
    assert summaries["done"].metrics == metrics and rows["done"].comparable  # all metrics, no n_users
    assert rows["stopped-bad-results"].state == "corrupt" and "results.json" in (
        rows["stopped-bad-results"].error or ""
    )
    assert rows["bad-config"].state == "corrupt" and "config.json" in (rows["bad-config"].error or "")
    assert rows["queued"].state == "queued" and rows["queued"].metrics == {}


def test_duration_and_metric_helpers_read_every_stored_layout() -> None:
    start = "2026-01-01T00:00:00+00:00"
    assert duration_s({"state": "done", "started_at": start, "finished_at": "2026-01-01T00:01:30+00:00"}) == 90.0
    assert duration_s({"state": "failed", "started_at": start, "updated_at": "2026-01-01T00:00:10+00:00"}) == 10.0
    assert (
        duration_s(
            {"state": "running", "started_at": 1_767_225_600.0},  # Unix seconds occur too
            now=datetime(2026, 1, 1, 0, 0, 5, tzinfo=timezone.utc),
        )
        == 5.0
    )
    assert duration_s({"state": "queued"}) is None and duration_s({"state": "done", "started_at": "x"}) is None
    assert primary_test_metrics({"test": {"primary": {"metrics": {"ndcg@10": 0.5, "hit@10": None}}}}) == {
        "ndcg@10": 0.5
    }
    assert primary_test_metrics({"test": {"NDCG@10": 0.25, "n_users": 943}}) == {"NDCG@10": 0.25}
    assert primary_test_metrics(None) == {} and primary_test_metrics({"test": []}) == {}


def test_the_code_fingerprint_follows_code_not_comments_docstrings_or_formatting() -> None:
    from rec_core.runs.environment import _code_of

    base = 'def f(x):\n    """Doc."""\n    return x * 2\n'
    same = "# a comment\ndef f( x ):  # why\n    '''Another doc, reflowed.'''\n    return (x*2)\n"
    other = 'def f(x):\n    """Doc."""\n    return x * 3\n'
    assert _code_of(base) == _code_of(same)
    assert _code_of(base) != _code_of(other)
    assert _code_of('"""Only a docstring."""\n') == _code_of("")
