"""Shared pytest fixtures and the suite's two modes. Keep this small and additive.

Local runs (`python -m pytest`) are fast: tests marked `slow` or `browser` are deselected, and
the summary says how many. In CI (`CI=true`, which .ci/run sets) nothing is deselected and a
skip is a failure: a check that cannot run there is a broken check, not a pass. Locally,
`--all` (or naming files, or any `-m` expression) runs the marked tests too.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def fixtures_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny datasets in the real formats: the committed CSV files plus MovieLens-format files
    with invented records, written here (no MovieLens file is committed: its licence)."""
    import shutil

    from tests.movielens_fixtures import write_tiny_movielens

    root = tmp_path_factory.mktemp("fixtures")
    shutil.copytree(FIXTURES, root, dirs_exist_ok=True)
    write_tiny_movielens(root)
    return root


def _shared_data_root() -> Path | None:
    """$REC_CORE_DATA if set, else the `shared/data` folder beside the checkout (as .ci/run sets)."""
    env = os.environ.get("REC_CORE_DATA", "").strip()
    if env:
        return Path(env)
    beside = REPO.parent / "shared" / "data"
    return beside if beside.is_dir() else None


@pytest.fixture(scope="session")
def ml100k_dir() -> Path:
    """Folder of the real ML-100K (u.data, ...). CI must have it: fails there, skips locally."""
    root = _shared_data_root()
    folder = root / "ml-100k" if root is not None else None
    if folder is not None and (folder / "u.data").is_file():
        return folder
    message = (
        f"real ML-100K not found (REC_CORE_DATA={os.environ.get('REC_CORE_DATA')!r}, "
        f"looked in {folder}); set REC_CORE_DATA to the folder holding ml-100k/"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(autouse=True, scope="session")
def _hermetic_feature_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Encoded text features go to a per-session temp folder, never the user's cache
    (REC_CORE_CACHE set for the session and restored after it, unless the caller set one)."""
    with pytest.MonkeyPatch.context() as patch:
        if not os.environ.get("REC_CORE_CACHE"):
            patch.setenv("REC_CORE_CACHE", str(tmp_path_factory.mktemp("rec_core_cache")))
        yield


@pytest.fixture(autouse=True, scope="session")
def _strict_strings() -> Iterator[None]:
    """The app's strings are strict in tests: a missing key or a string that cannot be formatted
    raises (rec_app.i18n.MissingString / StringFormatError) instead of showing [key]."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REC_APP_STRICT_STRINGS", "1")
        yield


@pytest.fixture()
def http_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A `tests.local_http.LocalServer` on 127.0.0.1 (no proxy from the environment intercepts
    it), closed after the test."""
    from tests.local_http import LocalServer

    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    server = LocalServer()
    yield server
    server.close()


# -- real tiny run stores, built once per session ---------------------------------------------------
@pytest.fixture(scope="session")
def seeded_runs(tmp_path_factory: pytest.TempPathFactory, _hermetic_feature_cache: None) -> Path:
    """The app tests' store (tests/app_store.py: mf and enhanced, seeds 0 and 1, all done).
    Shared by the session: read it only; `app_runs` is a copy to change."""
    from tests.app_store import seed_store

    return seed_store(tmp_path_factory.mktemp("app-runs"))


@pytest.fixture()
def app_runs(seeded_runs: Path, tmp_path: Path) -> Path:
    """A private copy of `seeded_runs` under tmp_path (tests may break it freely)."""
    from tests.app_store import copy_store

    return copy_store(seeded_runs, tmp_path)


@pytest.fixture(scope="session")
def analysis_runs(tmp_path_factory: pytest.TempPathFactory, _hermetic_feature_cache: None) -> Path:
    """The analysis tests' store (tests/analysis_runs.py: RUN_IDS, all done). Shared by the
    session: read it only; `analysis_runs_copy` is a copy to change."""
    from tests.analysis_runs import build_analysis_runs

    return build_analysis_runs(tmp_path_factory.mktemp("analysis-runs"))


@pytest.fixture()
def analysis_runs_copy(analysis_runs: Path, tmp_path: Path) -> Path:
    """A private copy of `analysis_runs` under tmp_path (tests may break it freely)."""
    from tests.app_store import copy_store

    return copy_store(analysis_runs, tmp_path)


# -- local and CI modes ------------------------------------------------------------------------------
LOCAL_DESELECT = ("slow", "browser")  # markers left out of a plain local run
_DESELECTED = pytest.StashKey[int]()


def in_ci() -> bool:
    """Whether this is CI (CI=true): everything runs, nothing may skip."""
    return os.environ.get("CI", "").lower() == "true"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--all",
        action="store_true",
        dest="run_all",
        help=f"also run the tests marked {' / '.join(LOCAL_DESELECT)} (CI=true always does)",
    )


def _runs_everything(config: pytest.Config) -> bool:
    # Named files or node ids, or a marker expression, say what to run: honour them as given.
    named = config.args_source == pytest.Config.ArgsSource.ARGS
    return in_ci() or bool(config.getoption("run_all")) or bool(config.getoption("markexpr")) or named


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _runs_everything(config):
        return
    keep = [item for item in items if not any(item.get_closest_marker(m) for m in LOCAL_DESELECT)]
    dropped = [item for item in items if item not in set(keep)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
    config.stash[_DESELECTED] = len(dropped)


def pytest_report_header(config: pytest.Config) -> str:
    if in_ci():
        return "rec_core tests: CI mode (CI=true): every test runs, a skip fails"
    if _runs_everything(config):
        return "rec_core tests: local mode, everything selected"
    return f"rec_core tests: local mode, {' and '.join(LOCAL_DESELECT)} tests deselected (--all runs them)"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    n = config.stash.get(_DESELECTED, 0)
    if n:
        terminalreporter.write_line(
            f"{n} {' / '.join(LOCAL_DESELECT)} tests deselected in this local run; "
            "`python -m pytest --all` or CI=true runs them",
            yellow=True,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run (CI=true): {reason}"
    return report


@pytest.fixture(autouse=True, scope="session")
def _no_warm_worker() -> Iterator[None]:
    """The app starts processes of its own: its queue keeps a warm worker (it imports torch),
    and Estimate calibrates unmeasured settings on the target data (a minute of CPU on
    ML-100K). Tests that serve the app would start them per store or click: off unless a test
    starts them itself (tests/test_warm_worker.py, the calibration test), or the caller set
    REC_CORE_WARM_WORKER / REC_CORE_CALIBRATE; restored after the session."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("REC_CORE_WARM_WORKER", "REC_CORE_CALIBRATE", "REC_CORE_PRECOMPUTE_PROJECTIONS"):
            if name not in os.environ:
                patch.setenv(name, "0")
        yield
