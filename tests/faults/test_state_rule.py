"""The state rule: complete and verified results are never "failed", incomplete ones never "done".

- A process killed (SIGKILL) after results.json but before its final state reads as done.
- A process killed before results.json reads as failed (killed?).
- A finished run whose model or per-user table is deleted or truncated lists as corrupt,
  naming the file; a same-size change is caught by the checksum when the file is loaded.
- `compare` refuses failed and corrupt runs with one line and exit code 2.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rec_core.cli import main
from rec_core.experiment import load_run_model
from rec_app.runs.table import list_rows
from rec_core.runs import CorruptRunFile, RunStore
from tests.faults.util import REPO, SYN, cli, env, one_error_line

TRAIN = ["train", *SYN, "--model", "mf", "--embed-dim", "8", "--epochs", "2", "--batch-size", "256", "--quiet"]

# Runs the CLI with one store method replaced by "kill this process with SIGKILL", at the
# moment the method is called with the given first argument (or at all, when it is "*").
KILL_AT = (
    "import os, signal, sys; from rec_core.runs.store import Run; "
    "method, when = sys.argv[1], sys.argv[2]; real = getattr(Run, method)\n"
    "def killer(self, *a, **k):\n"
    "    if when == '*' or (a and a[0] == when): os.kill(os.getpid(), signal.SIGKILL)\n"
    "    return real(self, *a, **k)\n"
    "setattr(Run, method, killer)\n"
    "from rec_core.cli import main; sys.exit(main(sys.argv[3:]))"
)


def _killed_run(tmp_path: Path, method: str, when: str) -> RunStore:
    runs = tmp_path / "runs"
    argv = [sys.executable, "-c", KILL_AT, method, when, *TRAIN, "--runs-dir", str(runs), "--run-id", "k"]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env(tmp_path), cwd=REPO, timeout=300)
    assert proc.returncode == -9, proc.stderr  # it really was killed
    return RunStore(runs)


@pytest.mark.slow  # > 10 s on a 2-core machine: CI runs it, a plain local run leaves it out
def test_killed_after_results_before_final_state_reads_done(tmp_path: Path) -> None:
    store = _killed_run(tmp_path, "set_status", "done")
    run = store.get("k")
    assert run.raw_status()["state"] == "running"  # the final state was never written
    st = run.status()
    assert st["state"] == "done" and not st.get("error") and "results and files are complete" in st["note"]
    assert [s.state for s in store.list()] == ["done"]
    assert [r.state for r in list_rows(store)] == ["done"] and list_rows(store)[0].comparable
    load_run_model(run)  # the model is there and verified


@pytest.mark.slow  # > 10 s on a 2-core machine: CI runs it, a plain local run leaves it out
def test_killed_before_results_reads_failed(tmp_path: Path) -> None:
    store = _killed_run(tmp_path, "write_results", "*")
    st = store.get("k").status()
    assert st["state"] == "failed" and "died without finishing" in st["error"]
    assert (store.root / "k" / "model.safetensors").is_file()  # written, but results never were


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding one finished MF run "a" and one failed run "bad" (tiny, trained once)."""
    runs = tmp_path_factory.mktemp("finished") / "runs"
    assert main([*TRAIN, "--runs-dir", str(runs), "--run-id", "a"]) == 0
    assert main([*TRAIN, "--runs-dir", str(runs), "--run-id", "b", "--seed", "0", "--embed-dim", "4"]) == 0
    # Diverges at once: a failed run with a config like the others.
    assert (
        main([*TRAIN, "--runs-dir", str(runs), "--run-id", "bad", "--lr", "1e30", "--init-std", "10", "--epochs", "20"])
        == 1
    )
    return runs


@pytest.fixture()
def store(finished: Path, tmp_path: Path) -> RunStore:
    shutil.copytree(finished, tmp_path / "runs")
    return RunStore(tmp_path / "runs")


def _state(store: RunStore, run_id: str) -> tuple[str, str | None]:
    row = {s.run_id: s for s in store.list()}[run_id]
    return row.state, row.error


def test_results_record_sizes_and_checksums(store: RunStore) -> None:
    results = store.get("a").results()
    assert results is not None
    files = results["files"]
    assert {"model.safetensors", "tables/per_user_test.parquet", "tables/per_user_valid.parquet"} <= set(files)
    for name, record in files.items():
        path = store.root / "a" / name
        assert record["size"] == path.stat().st_size and len(record["sha256"]) == 64
    assert _state(store, "a") == ("done", None)


@pytest.mark.parametrize("damage", ["delete", "truncate"])
@pytest.mark.parametrize("name", ["model.safetensors", "tables/per_user_test.parquet"])
def test_missing_or_truncated_file_lists_as_corrupt_naming_it(store: RunStore, name: str, damage: str) -> None:
    path = store.root / "a" / name
    if damage == "delete":
        path.unlink()
    else:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    state, error = _state(store, "a")
    assert state == "corrupt" and error is not None and name.split("/")[-1] in error
    assert ("missing" if damage == "delete" else "truncated") in error
    row = {r.run_id: r for r in list_rows(store)}["a"]
    assert row.state == "corrupt" and name.split("/")[-1] in (row.error or "") and not row.comparable


def test_same_size_damage_is_caught_by_the_checksum_on_load(store: RunStore) -> None:
    path = store.root / "a" / "model.safetensors"
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF  # one flipped byte in the tensor data: same size, parses fine
    path.write_bytes(bytes(raw))
    assert _state(store, "a")[0] == "done"  # listing checks sizes only (cheap)
    with pytest.raises(CorruptRunFile, match="model.safetensors.*checksum"):
        load_run_model(store.get("a"))
    assert "checksum" in (store.get("a").check_files(checksums=True) or "")


def test_compare_refuses_failed_and_corrupt_runs(store: RunStore, capsys: pytest.CaptureFixture) -> None:
    root = str(store.root)
    assert main(["compare", "a", "b", "--runs-dir", root, "--n-boot", "50"]) == 0
    capsys.readouterr()
    assert main(["compare", "a", "bad", "--runs-dir", root]) == 2
    assert "run bad is failed" in one_error_line(capsys.readouterr().err)
    (store.root / "b" / "tables" / "per_user_test.parquet").unlink()
    assert main(["compare", "a", "b", "--runs-dir", root]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "run b is corrupt" in line and "per_user_test.parquet" in line


def test_runs_shows_the_reason_of_failed_and_corrupt_runs(store: RunStore, tmp_path: Path) -> None:
    (store.root / "b" / "model.safetensors").unlink()
    proc = cli(tmp_path, "runs", "--runs-dir", str(store.root))
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    lines = {ln.split()[0]: ln for ln in proc.stdout.splitlines()[2:]}
    assert "reason" in proc.stdout.splitlines()[0]
    assert " failed " in lines["bad"] and "loss became" in lines["bad"]
    assert " corrupt " in lines["b"] and "model.safetensors" in lines["b"] and "missing" in lines["b"]
    assert " done " in lines["a"]


def test_rerun_killed_midway_does_not_pass_for_the_earlier_attempt(store: RunStore, tmp_path: Path) -> None:
    store.get("a").set_status("queued")
    argv = [
        sys.executable,
        "-c",
        KILL_AT,
        "append_history",
        "*",
        "execute",
        "a",
        "--runs-dir",
        str(store.root),
        "--quiet",
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env(tmp_path), cwd=REPO, timeout=300)
    assert proc.returncode == -9, proc.stderr
    st = store.get("a").status()
    assert st["state"] == "failed" and "died without finishing" in st["error"]
