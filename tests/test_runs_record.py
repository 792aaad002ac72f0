"""The typed run record (rec_core.runs.record): a real run's files round-trip through the types
unchanged, a file from before the schema version reads as version 0, unknown keys survive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rec_core.experiment import execute_run, start_run
from rec_core.runs import Run, RunStore
from rec_core.runs.record import SCHEMA_VERSION, HistoryRow, RunResults, RunStatus, schema_version_of
from rec_core.runs.summary import primary_test_metrics
from tests.app_store import tiny_config


@pytest.fixture(scope="module")
def done_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    store = RunStore(tmp_path_factory.mktemp("record") / "runs")
    run = start_run(tiny_config("mf", 0, epochs=2), store)
    execute_run(run)
    return run


def _file(run: Run, name: str) -> dict:
    return json.loads((run.path / name).read_text(encoding="utf-8"))


def test_a_real_runs_files_round_trip_and_carry_the_schema_version(done_run: Run) -> None:
    status, results = _file(done_run, "status.json"), _file(done_run, "results.json")
    assert status["schema_version"] == SCHEMA_VERSION == results["schema_version"]
    st = RunStatus.from_dict(status)
    assert st.to_dict() == status
    assert st.state == "done" and st.completion is not None and st.completion["state"] == "finished"
    res = RunResults.from_dict(results)
    assert res.to_dict() == results and list(res.to_dict()) == list(results)  # the order execute_run writes
    assert res.run_id == done_run.run_id and res.model == "mf" and res.epochs_run == 2
    assert res.test_metrics() == results["test"]["primary"]["metrics"]
    assert res.test_metrics() and primary_test_metrics(results) == {
        k: v for k, v in res.test_metrics().items() if "@" in k
    }
    assert res.metrics("valid") == results["valid"]["primary"]["metrics"]
    assert res.timings["total_s"] > 0 and res.code == results["environment"]["code"]
    assert res.files and not res.extra  # every key execute_run writes has a typed field
    rows = done_run.history_rows()
    assert [r.to_dict() for r in rows] == done_run.history()
    assert [r.epoch for r in rows] == [1, 2] and all(r.loss and r.seconds > 0 for r in rows)
    assert done_run.results_record() == res and done_run.status_record().state == "done"


def test_a_file_without_schema_version_reads_as_version_0(done_run: Run, tmp_path: Path) -> None:
    old = {k: v for k, v in _file(done_run, "results.json").items() if k != "schema_version"}
    res = RunResults.from_dict(old)
    assert res.schema_version == 0 == schema_version_of(old) and res.to_dict() == old
    assert "schema_version" not in res.to_dict()  # not added on the way back
    status = {"state": "done", "error": None, "created_at": "2025-01-01T00:00:00+00:00"}
    st = RunStatus.from_dict(status)
    assert st.schema_version == 0 and st.state == "done" and st.to_dict() == status
    assert st.progress == {} and st.pid is None  # missing typed keys: their defaults
    # A run folder from before the version: the store still lists and reads it.
    kept = (done_run.path / "results.json").read_bytes()
    (done_run.path / "results.json").write_text(json.dumps(old), encoding="utf-8")
    try:
        assert done_run.results_record() == res
        (listed,) = RunStore(done_run.path.parent).list()
        assert listed.state == "done" and listed.metrics == primary_test_metrics(old)
    finally:
        (done_run.path / "results.json").write_bytes(kept)


def test_unknown_keys_are_kept_in_extra_and_written_back() -> None:
    data = {
        "schema_version": 7,  # a newer writer: kept as is
        "run_id": "r1",
        "test": {"primary": {"metrics": {"ndcg@10": 0.5}}},
        "segments": {"cold": [1, 2]},
        "from_the_future": None,
    }
    res = RunResults.from_dict(data)
    assert res.extra == {"segments": {"cold": [1, 2]}, "from_the_future": None}
    assert res.to_dict() == data and res.schema_version == 7
    assert res.test_metrics() == {"ndcg@10": 0.5} and res.metrics("valid") == {}
    assert res.absent >= {"valid", "best_epoch", "completion"}  # typed keys the file lacks stay out
    changed = res.replace(best_epoch=3)
    assert changed.to_dict() == {**data, "best_epoch": 3}
    row = HistoryRow.from_dict({"epoch": 1, "phase": "train", "loss": {"bpr": 0.6}, "grad_norm": 2.0})
    assert row.extra == {"grad_norm": 2.0} and row.to_dict()["grad_norm"] == 2.0 and row.valid is None
    st = RunStatus.from_dict({"state": "queued", "command": ["python", "-m", "rec_core"], "queued_at": "x"})
    assert st.extra == {"command": ["python", "-m", "rec_core"], "queued_at": "x"}
    assert RunStatus.from_dict(st.to_dict()) == st


def test_writing_a_record_writes_its_dict(tmp_path: Path) -> None:
    run = RunStore(tmp_path / "runs").create({"seed": 0}, run_id="w")
    assert run.raw_status()["schema_version"] == SCHEMA_VERSION  # a new status file carries it
    res = RunResults(run_id="w", model="mf", test={"primary": {"metrics": {"hit@10": 1.0}}}, extra={"note": "x"})
    run.write_results(res)
    assert run.results() == res.to_dict() and run.results_record() == RunResults.from_dict(res.to_dict())
    assert run.results()["schema_version"] == SCHEMA_VERSION
