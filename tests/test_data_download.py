"""Download: offline fails fast and clearly; a zip served on 127.0.0.1 is verified and extracted atomically."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import socket
import time
import zipfile
from pathlib import Path

import pytest

from rec_core.data import ML100K_SPEC, ML1M_SPEC, DatasetSpec, download_dataset, ensure_dataset, load_ml100k
from rec_core.data.download import sha256_of
from rec_core.errors import DatasetUnavailable
from tests.local_http import LocalServer


def _zip_of(folder: Path, top: str, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, f"{top}/{path.name}")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tiny_spec(fixtures_dir: Path, url: str) -> DatasetSpec:
    folder = fixtures_dir / "ml-100k-tiny"
    return DatasetSpec(
        name="ml-100k",
        url=url,
        files=ML100K_SPEC.files,
        sha256={name: sha256_of(folder / name) for name in ML100K_SPEC.files},
    )


def _leftovers(data_dir: Path) -> list[str]:
    return sorted(p.name for p in data_dir.iterdir()) if data_dir.exists() else []


def test_offline_fails_fast_with_url_and_folder(tmp_path: Path) -> None:
    start = time.perf_counter()
    try:
        folder = ensure_dataset("ml-100k", tmp_path, download=True)
    except DatasetUnavailable as err:
        elapsed = time.perf_counter() - start
        assert elapsed < 10.0, f"offline download took {elapsed:.1f} s"
        message = str(err)
        assert ML100K_SPEC.url in message and str(tmp_path / "ml-100k") in message
        assert _leftovers(tmp_path) == []
    else:  # a machine with internet: then the real zip must have verified
        load_ml100k(folder)


def test_refused_connection_fails_fast(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/ml-100k.zip"
    start = time.perf_counter()
    with pytest.raises(DatasetUnavailable, match="downloading .* failed") as err:
        download_dataset(ML100K_SPEC, tmp_path, url=url, timeout=2.0)
    assert time.perf_counter() - start < 5.0
    assert url in str(err.value) and str(tmp_path / "ml-100k") in str(err.value)
    assert _leftovers(tmp_path) == []


def test_silent_server_times_out(http_server: LocalServer, tmp_path: Path) -> None:
    start = time.perf_counter()
    with pytest.raises(DatasetUnavailable, match="failed"):
        download_dataset(ML100K_SPEC, tmp_path, url=http_server.base + "/hang", timeout=1.0)
    assert time.perf_counter() - start < 5.0
    assert _leftovers(tmp_path) == []


def test_download_verify_extract_and_load(http_server: LocalServer, fixtures_dir: Path, tmp_path: Path) -> None:
    http_server.routes["/ml-100k.zip"] = _zip_of(fixtures_dir / "ml-100k-tiny", "ml-100k")
    spec = _tiny_spec(fixtures_dir, http_server.base + "/ml-100k.zip")
    folder = download_dataset(spec, tmp_path / "data")
    assert folder == tmp_path / "data" / "ml-100k"
    assert _leftovers(tmp_path / "data") == ["ml-100k"]  # the temporary folder is gone
    assert load_ml100k(folder).n_interactions == 10


def test_bad_checksum_leaves_nothing(http_server: LocalServer, fixtures_dir: Path, tmp_path: Path) -> None:
    http_server.routes["/ml-100k.zip"] = _zip_of(fixtures_dir / "ml-100k-tiny", "ml-100k")
    url = http_server.base + "/ml-100k.zip"
    # The real ML-100K zip MD5 cannot match the tiny fixture's zip: refused before extraction.
    with pytest.raises(DatasetUnavailable, match="failed verification") as err:
        ensure_dataset("ml-100k", tmp_path, url=url)
    assert f"ml-100k.zip has MD5 {hashlib.md5(http_server.routes['/ml-100k.zip']).hexdigest()}" in str(err.value)
    assert f"expected {ML100K_SPEC.zip_md5}" in str(err.value) and url in str(err.value)
    assert _leftovers(tmp_path) == []
    # A zip whose MD5 matches is still refused when an extracted file's SHA256 does not.
    spec = dataclasses.replace(ML100K_SPEC, zip_md5=hashlib.md5(http_server.routes["/ml-100k.zip"]).hexdigest())
    with pytest.raises(DatasetUnavailable, match="failed verification") as err:
        download_dataset(spec, tmp_path, url=url)
    assert "u.data has SHA256" in str(err.value)
    assert _leftovers(tmp_path) == []


def test_ratings_size_floor(http_server: LocalServer, fixtures_dir: Path, tmp_path: Path) -> None:
    folder = fixtures_dir / "ml-1m-tiny"
    http_server.routes["/ml-1m.zip"] = _zip_of(folder, "ml-1m")
    spec = DatasetSpec(name="ml-1m", url="", files=ML1M_SPEC.files, min_bytes=ML1M_SPEC.min_bytes)
    with pytest.raises(DatasetUnavailable, match=r"ratings\.dat has \d+ bytes, expected at least 20000000"):
        download_dataset(spec, tmp_path, url=http_server.base + "/ml-1m.zip")
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("route", "body", "message"),
    [
        ("/missing.zip", None, "Not Found"),
        ("/garbage.zip", b"this is not a zip", "not a readable zip"),
        ("/wrong.zip", "wrong-files", "lacks ml-100k/u.data"),
        ("/evil.zip", "escape", "escapes the archive folder"),
    ],
)
def test_bad_downloads(
    http_server: LocalServer, fixtures_dir: Path, tmp_path: Path, route: str, body: object, message: str
) -> None:
    if body == "wrong-files":
        body = _zip_of(fixtures_dir / "csv", "csv")
    elif body == "escape":
        body = _zip_of(fixtures_dir / "ml-100k-tiny", "ml-100k", {"../outside.txt": b"x"})
    if isinstance(body, bytes):
        http_server.routes[route] = body
    spec = _tiny_spec(fixtures_dir, http_server.base + route)
    with pytest.raises(DatasetUnavailable, match=message):
        download_dataset(spec, tmp_path / "data")
    assert _leftovers(tmp_path / "data") == []
    assert not (tmp_path / "outside.txt").exists()


def test_no_download_and_incomplete_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailable, match="download=False") as err:
        ensure_dataset("ml-1m", tmp_path, download=False)
    assert ML1M_SPEC.url in str(err.value) and str(tmp_path / "ml-1m") in str(err.value)
    (tmp_path / "ml-1m").mkdir()
    (tmp_path / "ml-1m" / "movies.dat").write_text("1::A (1995)::Drama\n")
    with pytest.raises(DatasetUnavailable, match="lacks ratings.dat, users.dat"):
        ensure_dataset("ml-1m", tmp_path, download=True)
    assert _leftovers(tmp_path / "ml-1m") == ["movies.dat"]  # never overwritten


def test_pinned_checksums_match_the_real_files(ml100k_dir: Path) -> None:
    for name in ML100K_SPEC.files:
        assert sha256_of(ml100k_dir / name) == ML100K_SPEC.sha256[name]
