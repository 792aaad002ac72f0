"""A built-in dataset's folder that is not the published one is refused, naming the file.

A u.data cut at a line boundary parses line by line, so before it loaded as ML-100K and its
runs passed for ML-100K runs. Now the ratings must number the known 100,000 (943 users,
1,682 items), and the files a SHA256SUMS in the folder lists must have their digests.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rec_core.cli import main
from rec_core.data import DataConfig, load_dataset
from rec_core.errors import DataError
from tests.faults.util import one_error_line


@pytest.fixture()
def copy(ml100k_dir: Path, tmp_path: Path) -> Path:
    """A copy of the real ML-100K folder, to damage."""
    folder = tmp_path / "data" / "ml-100k"
    shutil.copytree(ml100k_dir, folder)
    return folder


def _cut(folder: Path, lines: int) -> None:
    path = folder / "u.data"
    kept = path.read_bytes().splitlines(keepends=True)[:lines]
    path.write_bytes(b"".join(kept))


def test_intact_copy_loads(copy: Path) -> None:
    data = load_dataset(DataConfig(name="ml-100k", data_dir=str(copy.parent), download=False))
    assert (data.n_users, data.n_items, data.n_interactions) == (943, 1682, 100_000)


def test_truncated_u_data_is_refused_by_its_checksum(copy: Path) -> None:
    if not (copy / "SHA256SUMS").is_file():  # the official zip has none: write what sha256sum would
        from rec_core.data.download import ML100K_SPEC

        (copy / "SHA256SUMS").write_text(f"{ML100K_SPEC.sha256['u.data']}  u.data\n", encoding="utf-8")
    _cut(copy, 99_000)
    with pytest.raises(DataError, match="does not match .*SHA256SUMS") as info:
        load_dataset(DataConfig(name="ml-100k", data_dir=str(copy.parent), download=False))
    assert info.value.field == "u.data" and str(copy / "u.data") in str(info.value)


def test_truncated_u_data_without_checksums_is_refused_by_its_size(
    copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (copy / "SHA256SUMS").unlink(missing_ok=True)
    _cut(copy, 99_000)
    runs = tmp_path / "runs"
    code = main(["train", "--dataset", "ml-100k", "--data-dir", str(copy.parent), "--runs-dir", str(runs), "--quiet"])
    line = one_error_line(capsys.readouterr().err)
    assert code == 2 and "u.data" in line and "99,000 ratings" in line and "100,000" in line
    assert "943 users" in line and "1,682 items" in line
    assert not runs.exists() or not any(runs.iterdir())  # refused before a run folder exists


def test_u_data_of_other_users_and_items_is_refused(copy: Path) -> None:
    # As many lines as ML-100K, but not its users: every rating moved to user 1.
    (copy / "SHA256SUMS").unlink(missing_ok=True)
    path = copy / "u.data"
    rows = [line.split("\t") for line in path.read_text(encoding="latin-1").splitlines()]
    path.write_text("".join("\t".join(["1", *r[1:]]) + "\n" for r in rows), encoding="latin-1")
    with pytest.raises(DataError, match="rates 1 users and 1,682 items, but ml-100k has 943") as info:
        load_dataset(DataConfig(name="ml-100k", data_dir=str(copy.parent), download=False))
    assert info.value.field == "u.data"
