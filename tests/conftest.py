"""Shared pytest fixtures. Keep this small and additive: one fixture per shared need."""
from __future__ import annotations

import os
from pathlib import Path

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
def _hermetic_feature_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Encoded text features go to a per-session temp folder, never the user's cache."""
    if not os.environ.get("REC_CORE_CACHE"):
        os.environ["REC_CORE_CACHE"] = str(tmp_path_factory.mktemp("rec_core_cache"))


@pytest.fixture(autouse=True, scope="session")
def _no_warm_worker() -> None:
    """The app's queue keeps a warm worker process (it imports torch); tests that serve the app
    would start one per store. Off unless a test asks for it (tests/test_warm_worker.py)."""
    os.environ.setdefault("REC_CORE_WARM_WORKER", "0")
