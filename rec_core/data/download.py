"""Fetch a GroupLens MovieLens zip, verify it, and extract it atomically.

Two checks, both before anything lands in the data folder:
- the zip's MD5 against the value GroupLens publishes beside it (`<zip>.md5`, e.g.
  https://files.grouplens.org/datasets/movielens/ml-20m.zip.md5), hashed while downloading;
- the extracted files: SHA256 of every file we could hash from a verified copy (ML-100K, the
  ML-1M metadata) and a size floor for ratings files we could not hash here.
The zip is extracted into a temporary folder beside the target and renamed into place only once
every check passed, so a failed or interrupted download never leaves a partial dataset folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import threading
import urllib.error
import urllib.request
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from rec_core.errors import DatasetUnavailable

__all__ = [
    "DatasetSpec",
    "ML100K_SPEC",
    "ML1M_SPEC",
    "ML10M_SPEC",
    "ML20M_SPEC",
    "BUILTIN_SPECS",
    "dataset_folder",
    "missing_files",
    "download_dataset",
    "unavailable_message",
    "DEFAULT_TIMEOUT_S",
    "sha256_of",
]

DEFAULT_TIMEOUT_S = 5.0  # connect and per-read timeout: offline must fail well within 10 s
_CHUNK = 1 << 16


@dataclass(frozen=True)
class DatasetSpec:
    """A downloadable dataset: its folder name, URL and what a complete folder holds."""

    name: str  # folder name under the data dir, and the zip's top folder
    url: str  # where the official zip lives
    files: tuple[str, ...]  # files the loader needs; all must exist after extraction
    sha256: Mapping[str, str] = field(default_factory=dict)  # file -> expected hex digest
    min_bytes: Mapping[str, int] = field(default_factory=dict)  # file -> smallest plausible size
    zip_md5: str | None = None  # MD5 of the zip as GroupLens publishes it (`<url>.md5`); None: not checked
    # The zip's top folder when it is not `name` (ML-10M unzips to `ml-10M100K/`); a folder of
    # that name in the data dir is used too, so unzipping the download by hand just works.
    zip_folder: str | None = None


# Zip MD5s: the values of GroupLens' `<zip>.md5` files. This machine cannot reach GroupLens, so
# they were not fetched here: they are the published values as quoted, identically, by several
# independent public projects that verify these downloads. A mismatch fails the download with
# both digests and the address of the .md5 file to compare against.
ML100K_SPEC = DatasetSpec(
    name="ml-100k",
    url="https://files.grouplens.org/datasets/movielens/ml-100k.zip",
    zip_md5="0e33842e24a9c977be4e0107933c0723",
    files=("u.data", "u.item", "u.user", "u.genre"),
    sha256={
        "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
        "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
        "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
        "u.genre": "9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb",
        "u.occupation": "cd5fbec9afe345d993a62fc7817df1a4a9079c4feb267b3118763b8fd942137d",
        "u.info": "5b0a40b2e47a729ee6203063f6dcf8790c2e63f5a18663e6ee318a72c5f3c27b",
        "README": "4883b8cf340ed0059971b33f56ad3adc88a40792108ebca3d24aafc4c82e8b52",
    },
)

ML1M_SPEC = DatasetSpec(
    name="ml-1m",
    url="https://files.grouplens.org/datasets/movielens/ml-1m.zip",
    zip_md5="c4d9eecfca2ab87c1945afe126590906",
    files=("ratings.dat", "movies.dat", "users.dat"),
    sha256={
        "movies.dat": "0140fc2356357c1a851d0f52e893a1e4d3696df632c4141cea8d5bc3d621f0b9",
        "users.dat": "1dc3a95300cb19f7c10e027daf29b8cdf1d908dab65b5edfb45950aa389a10a3",
        "README": "2d5ddce86ccbd247207456165827b4b9ddf27282bca93807d4c763e28414f133",
    },
    # 1,000,209 ratings of ~24 bytes each (~24.6 MB); a much smaller file is truncated.
    min_bytes={"ratings.dat": 20_000_000},
)

# ML-10M: 10,000,054 ratings (ratings.dat, ~20+ bytes a line) of 10,681 movies; tags.dat is
# in the zip but not needed. No user metadata. The zip unzips to `ml-10M100K/` (65,566,137 bytes).
ML10M_SPEC = DatasetSpec(
    name="ml-10m",
    url="https://files.grouplens.org/datasets/movielens/ml-10m.zip",
    zip_md5="ce571fd55effeba0271552578f2648bd",
    files=("ratings.dat", "movies.dat"),
    min_bytes={"ratings.dat": 150_000_000},
    zip_folder="ml-10M100K",
)

# ML-20M: 20,000,263 ratings (ratings.csv with a header, ~19+ bytes a line) of 27,278 movies.
# No user metadata. The zip (198,702,078 bytes) unzips to `ml-20m/`.
ML20M_SPEC = DatasetSpec(
    name="ml-20m",
    url="https://files.grouplens.org/datasets/movielens/ml-20m.zip",
    zip_md5="cd245b17a1ae2cc31bb14903e1204af3",
    files=("ratings.csv", "movies.csv"),
    min_bytes={"ratings.csv": 300_000_000},
)

BUILTIN_SPECS: dict[str, DatasetSpec] = {s.name: s for s in (ML100K_SPEC, ML1M_SPEC, ML10M_SPEC, ML20M_SPEC)}


def dataset_folder(spec: DatasetSpec, root: Path) -> Path:
    """`root/spec.name`, or `root/spec.zip_folder` when only that one exists (a zip unzipped by hand)."""
    folder = root / spec.name
    if spec.zip_folder and not folder.exists() and (root / spec.zip_folder).is_dir():
        return root / spec.zip_folder
    return folder


def missing_files(spec: DatasetSpec, folder: Path) -> list[str]:
    """Names of `spec.files` absent from `folder` (all of them when it does not exist)."""
    return [name for name in spec.files if not (folder / name).is_file()]


def unavailable_message(spec: DatasetSpec, folder: Path, reason: str, url: str | None = None) -> str:
    """One message saying why, where to get the zip and where its files must go."""
    url = url or spec.url
    holds = f"{spec.name}/" + (f" (or {spec.zip_folder}/, as the zip unpacks)" if spec.zip_folder else "")
    return (
        f"{spec.name} is not available: {reason}. Download {url}, unzip it and put its files "
        f"({', '.join(spec.files)}) in {folder}, or point data_dir / $REC_CORE_DATA at the folder "
        f"that holds {holds}."
    )


def download_dataset(
    spec: DatasetSpec,
    data_dir: Path,
    *,
    url: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> Path:
    """Download, verify and extract `spec` into `data_dir/spec.name`; returns that folder.

    `url` overrides `spec.url` (tests serve a zip from 127.0.0.1). Raises DatasetUnavailable,
    naming the URL and the target folder, on any failure; nothing partial is left behind.
    """
    url = url or spec.url
    target = data_dir / spec.name
    if target.exists():
        raise DatasetUnavailable(
            unavailable_message(
                spec,
                target,
                f"{target} exists but lacks {', '.join(missing_files(spec, target))}; it is not overwritten",
                url,
            )
        )
    created_dir = not data_dir.exists()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{spec.name}-download-", dir=data_dir))
    except OSError as exc:
        raise DatasetUnavailable(
            unavailable_message(spec, target, f"cannot write to {data_dir} ({exc})", url)
        ) from None
    done = False
    try:
        zip_path = tmp / f"{spec.name}.zip"
        md5 = _fetch(url, zip_path, timeout, spec, target)
        if spec.zip_md5 is not None and md5 != spec.zip_md5.lower():
            raise DatasetUnavailable(
                unavailable_message(
                    spec,
                    target,
                    f"the download from {url} failed verification ({spec.name}.zip has MD5 {md5}, "
                    f"expected {spec.zip_md5} as published in {spec.url}.md5)",
                    url,
                )
            )
        extracted = _extract(zip_path, tmp / "extract", spec, target, url)
        problems = _verify(spec, extracted)
        if problems:
            raise DatasetUnavailable(
                unavailable_message(
                    spec, target, f"the download from {url} failed verification ({'; '.join(problems)})", url
                )
            )
        try:
            os.rename(extracted, target)
        except OSError as exc:
            if not missing_files(spec, target):
                done = True  # another process finished the same download first
                return target
            raise DatasetUnavailable(
                unavailable_message(spec, target, f"cannot move files into place ({exc})", url)
            ) from None
        done = True
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if created_dir and not done:
            with contextlib.suppress(OSError):
                data_dir.rmdir()  # only succeeds if empty: a folder we made for nothing
    return target


def _open_with_deadline(url: str, timeout: float) -> IO[bytes]:
    """`urlopen` with `timeout` on connect and reads, and a hard deadline on the whole open.

    The socket timeout does not bound DNS resolution, which can hang on a machine without a
    resolver; the open runs in a daemon thread so a hang cannot outlive the deadline.
    """
    responses: list[IO[bytes]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            responses.append(urllib.request.urlopen(url, timeout=timeout))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            errors.append(exc)

    thread = threading.Thread(target=worker, name="rec_core-download", daemon=True)
    thread.start()
    thread.join(timeout + 1.0)
    if thread.is_alive():
        raise TimeoutError(f"no connection within {timeout + 1.0:.0f} s")
    if errors:
        raise errors[0]
    return responses[0]


def _fetch(url: str, dest: Path, timeout: float, spec: DatasetSpec, target: Path) -> str:
    """Download `url` into `dest`; returns the hex MD5 of what was written."""
    if not url.startswith(("https://", "http://")):
        raise DatasetUnavailable(unavailable_message(spec, target, f"only http(s) URLs are fetched, got {url!r}", url))
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with _open_with_deadline(url, timeout) as response, dest.open("wb") as out:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
    except (urllib.error.URLError, OSError, TimeoutError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DatasetUnavailable(
            unavailable_message(spec, target, f"downloading {url} failed ({reason})", url)
        ) from None
    return digest.hexdigest()


def _extract(zip_path: Path, dest: Path, spec: DatasetSpec, target: Path, url: str) -> Path:
    """Extract the zip into `dest`; returns the folder inside it that holds `spec.files`."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            root = dest.resolve()
            for member in archive.infolist():
                # Refuse members that would land outside `dest` ("../x", absolute paths).
                if not (dest / member.filename).resolve().is_relative_to(root):
                    raise zipfile.BadZipFile(f"member {member.filename!r} escapes the archive folder")
            archive.extractall(dest)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DatasetUnavailable(
            unavailable_message(spec, target, f"{url} is not a readable zip ({exc})", url)
        ) from None
    tops = [spec.name] + ([spec.zip_folder] if spec.zip_folder else [])
    for candidate in [dest / top for top in tops] + [dest]:
        if not missing_files(spec, candidate):
            return candidate
    found = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())[:10]
    raise DatasetUnavailable(
        unavailable_message(
            spec, target, f"the zip from {url} lacks {spec.name}/{spec.files[0]} (it holds {', '.join(found)})", url
        )
    )


def _verify(spec: DatasetSpec, folder: Path) -> list[str]:
    """Problems found: checksum mismatches and files below their size floor."""
    problems = []
    for name, expected in spec.sha256.items():
        path = folder / name
        if not path.is_file():
            if name in spec.files:
                problems.append(f"{name} is missing")
            continue  # documentation files we know a hash for but do not need
        if sha256_of(path) != expected:
            problems.append(f"{name} has SHA256 {sha256_of(path)[:12]}..., expected {expected[:12]}...")
    for name, floor in spec.min_bytes.items():
        path = folder / name
        if path.is_file() and path.stat().st_size < floor:
            problems.append(f"{name} has {path.stat().st_size} bytes, expected at least {floor}")
    return problems


def sha256_of(path: Path) -> str:
    """Hex SHA256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
