"""ML-10M and ML-20M loaders on generated files in their formats; the real ML-1M metadata; the
offline failure and checksummed download of ML-1M, ML-10M and ML-20M.

No MovieLens file is committed (its licence): the tiny folders come from
`tests/movielens_fixtures.py`, and the real ML-1M movies.dat / users.dat are read from
$REC_CORE_DATA/ml-1m-metadata/ (linked into tmp folders, never copied into the repository).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import socket
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rec_core.data import (
    BUILTIN_SPECS,
    DATASET_NAMES,
    ML10M_SPEC,
    ML20M_SPEC,
    DataConfig,
    DatasetSpec,
    InteractionData,
    dataset_status,
    download_dataset,
    ensure_dataset,
    load_dataset,
    load_ml1m,
    load_ml10m,
    load_ml20m,
    read_ml1m_users,
    read_movies_dat,
)
from rec_core.data.movielens import ML1M_AGES, ML1M_OCCUPATIONS
from rec_core.data.sizes import KNOWN_SIZES
from rec_core.data.text_template import format_value
from rec_core.errors import ConfigError, DataError, DatasetUnavailable
from tests.local_http import LocalServer
from tests.movielens_fixtures import GENRES, ML10M_MOVIES, write_ml10m, write_ml20m


def _check_item_spans(data: InteractionData) -> None:
    columns = {name: data.item_fields[name].tolist() for name in data.item_fields.columns}
    for k, (text, spans) in enumerate(zip(data.item_text.texts, data.item_text.spans)):
        for name, start, end in spans:
            assert text[start:end] == format_value(columns[name][k]), (text, name)


def _rating_of(data: InteractionData, user: str, item: str) -> tuple[float, int]:
    u = data.user_ids.tolist().index(user)
    i = data.item_ids.tolist().index(item)
    rows = np.flatnonzero((data.users == u) & (data.items == i))
    assert len(rows) == 1
    return float(data.ratings[rows[0]]), int(data.timestamps[rows[0]])


def _assert_no_user_metadata(data: InteractionData) -> None:
    assert data.user_text.texts == ("",) * data.n_users  # use_user_text turns itself off on these
    assert data.user_text.spans == ((),) * data.n_users
    assert data.user_fields.shape == (data.n_users, 0)
    assert f"{data.name} has no user metadata: user texts are empty (text models use user IDs only)" in data.notes


# --- ML-10M -----------------------------------------------------------------------------------


def test_ml10m_counts_ids_ratings_and_texts(fixtures_dir: Path) -> None:
    data = load_ml10m(fixtures_dir / "ml-10m-tiny")
    assert data.name == "ml-10m"
    # Movie 5 is never rated; (2, 1) is rated twice and counted once.
    assert (data.n_users, data.n_items, data.n_interactions) == (4, 4, 8)
    assert data.user_ids.tolist() == ["1", "2", "10", "71567"]
    assert data.item_ids.tolist() == ["1", "2", "3", "4"]
    assert sorted(data.ratings.tolist()) == [0.5, 1.5, 2.0, 3.0, 3.5, 4.0, 4.5, 5.0]  # half stars kept
    assert _rating_of(data, "2", "1") == (4.5, 868245777)  # the later duplicate wins
    assert _rating_of(data, "1", "2") == (3.5, 838983525)
    assert any("dropped 1 duplicate" in note for note in data.notes)
    assert "1 items in movies.dat have no interactions and are not indexed" in data.notes
    assert data.timestamps.dtype == np.int64 and data.ratings.dtype == np.float32
    order = np.lexsort((data.timestamps, data.users))
    assert (order == np.arange(data.n_interactions)).all()
    assert data.item_text.texts == (
        "Paper Kites (1995). Genres: Animation, Children's, Comedy.",
        "Les Mémoires (1995). Genres: Drama, Musical.",
        "The Quiet Harbour (1995). Genres: Crime, Thriller.",
        "Pull My Kite (1958).",  # "(no genres listed)" is not a genre
    )
    assert data.item_fields["genres"].iloc[3] == []
    _check_item_spans(data)
    _assert_no_user_metadata(data)


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_ml10m_movies_in_either_encoding(tmp_path: Path, encoding: str) -> None:
    movies = read_movies_dat(write_ml10m(tmp_path / "ml-10m", movies_encoding=encoding) / "movies.dat")
    assert movies.loc["2", "title"] == "Les Mémoires"
    assert len(movies) == len(ML10M_MOVIES)


def test_ml10m_min_rating_threshold(fixtures_dir: Path) -> None:
    data = load_ml10m(fixtures_dir / "ml-10m-tiny", min_rating=3.5)
    assert data.n_interactions == 4 and data.ratings.min() == 3.5
    assert any("kept 4 of 8 interactions with rating >= 3.5" in note for note in data.notes)
    assert data.user_ids.tolist() == ["1", "2", "10"]  # user 71567 only rated 3


def test_ml10m_bad_ratings_line(tmp_path: Path) -> None:
    folder = write_ml10m(tmp_path / "ml-10m")
    ratings = folder / "ratings.dat"
    ratings.write_text(ratings.read_text() + "3::2::four::1111111113\n")
    with pytest.raises(DataError, match=r"ratings\.dat: line 10: rating 'four' is not a number"):
        load_ml10m(folder)
    (folder / "movies.dat").unlink()
    ratings.write_text("1::1::5::838985046\n")
    with pytest.raises(DataError, match=r"movies\.dat: file is missing"):
        load_ml10m(folder)


# --- ML-20M -----------------------------------------------------------------------------------


def test_ml20m_counts_ids_ratings_and_texts(fixtures_dir: Path) -> None:
    data = load_ml20m(fixtures_dir / "ml-20m-tiny")
    assert data.name == "ml-20m"
    assert (data.n_users, data.n_items, data.n_interactions) == (4, 7, 8)
    assert data.user_ids.tolist() == ["1", "2", "3", "138493"]
    assert data.item_ids.tolist() == ["1", "2", "3", "4", "5", "6", "131262"]  # numeric order
    assert _rating_of(data, "1", "2") == (4.0, 1112484676)  # the later duplicate wins
    assert _rating_of(data, "3", "131262") == (3.0, 1427745466)
    assert _rating_of(data, "2", "6") == (2.5, 974820691)
    assert "1 items in movies.csv have no interactions and are not indexed" in data.notes
    assert data.item_text.texts == (
        "Paper Kites (1995). Genres: Animation, Children, Comedy.",
        "The Quiet Harbour (1995). Genres: Crime, Thriller.",  # quoted title with a comma
        "Les Mémoires (1995). Genres: Drama, Musical.",  # UTF-8
        "Night, Day, and Night Again (2001). Genres: Drama.",
        "Pull My Kite (1958).",
        'The "Great" Escape (1963). Genres: Action, War.',  # doubled quotes inside a quoted title
        "Innocence (2014). Genres: Adventure, Fantasy, Horror.",
    )
    assert data.item_fields["year"].tolist() == [1995, 1995, 1995, 2001, 1958, 1963, 2014]
    _check_item_spans(data)
    _assert_no_user_metadata(data)


def test_ml20m_min_rating_threshold(fixtures_dir: Path) -> None:
    data = load_ml20m(fixtures_dir / "ml-20m-tiny", min_rating=4)
    assert sorted(data.ratings.tolist()) == [4.0, 4.0, 4.5, 5.0]
    assert data.item_ids.tolist() == ["1", "2", "4", "5"]
    with pytest.raises(DataError) as err:
        load_ml20m(fixtures_dir / "ml-20m-tiny", min_rating=5.5)
    assert err.value.field == "min_rating"


@pytest.mark.parametrize(
    ("file", "edit", "message"),
    [
        (
            "ratings.csv",
            lambda t: t.replace("userId,movieId", "user,movie"),
            r"ratings\.csv: line 1: expected the header 'userId,movieId,rating,timestamp'",
        ),
        ("ratings.csv", lambda t: t + "4,x,3.5,1112486027\n", r"ratings\.csv: line 11: item id 'x' is not an integer"),
        ("ratings.csv", lambda t: t + "4,1,3.5,1112486027,9\n", r"line 11: expected 4 ','-separated fields .* found 5"),
        ("ratings.csv", lambda t: t + "4,1\n", r"line 11: expected 4 ','-separated fields .* found 2"),
        ("ratings.csv", lambda t: t.splitlines()[0] + "\n", r"ratings\.csv: no interactions"),
        (
            "movies.csv",
            lambda t: t.replace("movieId,title,genres", "id,name,genres"),
            r"movies\.csv: line 1: expected the header 'movieId,title,genres'",
        ),
        ("movies.csv", lambda t: t + "1,Again (1995),Drama\n", r"movies\.csv: line 10: movieId 1 appears twice"),
        ("movies.csv", lambda t: t.replace("7,Never", "seven,Never"), r"line 8: movieId 'seven' is not an integer"),
        ("movies.csv", lambda t: t + "8,A,B,C\n", r"movies\.csv: could not be parsed: .*Expected 3 fields in line 10"),
        (
            "movies.csv",
            lambda t: "\n".join(line for line in t.splitlines() if not line.startswith("4,")) + "\n",
            r"movies\.csv: 1 items with interactions have no row here \(ids 4\)",
        ),
    ],
)
def test_ml20m_bad_files_name_file_and_line(tmp_path: Path, file: str, edit: object, message: str) -> None:
    folder = write_ml20m(tmp_path / "ml-20m")
    path = folder / file
    assert callable(edit)
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load_ml20m(folder)


def test_generated_million_line_files_load_fast(tmp_path: Path) -> None:
    """A million ratings in each format: vectorised parsing, no python-engine `sep="::"`."""
    rng = np.random.default_rng(0)
    n = 1_000_000
    frame = pd.DataFrame(
        {
            "u": rng.integers(1, 70_000, n),
            "i": rng.integers(1, 10_000, n),
            "r": rng.integers(1, 11, n) / 2,
            "t": rng.integers(789_652_009, 1_427_784_002, n),
        }
    )
    # What the loader must keep: the latest row of each (user, item) pair, then ratings >= 4.
    latest = frame.sort_values("t", kind="stable").drop_duplicates(["u", "i"], keep="last")
    expected = int((latest["r"] >= 4).sum())
    ids = np.arange(1, 10_000)
    for name, loader, ratings_text, movies in (
        (
            "ml-10m",
            load_ml10m,
            frame.to_csv(sep=":", header=False, index=False).replace(":", "::"),
            "\n".join(f"{i}::Movie {i} (2000)::Drama" for i in ids) + "\n",
        ),
        (
            "ml-20m",
            load_ml20m,
            frame.set_axis(["userId", "movieId", "rating", "timestamp"], axis=1).to_csv(index=False),
            "movieId,title,genres\n" + "\n".join(f'{i},"Movie {i}, The (2000)",Drama' for i in ids) + "\n",
        ),
    ):
        folder = tmp_path / name
        folder.mkdir()
        spec = BUILTIN_SPECS[name]
        (folder / spec.files[0]).write_text(ratings_text)
        (folder / spec.files[1]).write_text(movies)
        data = loader(folder, min_rating=4.0)
        assert data.n_interactions == expected and data.ratings.min() == 4.0
        assert data.n_items == len(np.unique(latest.loc[latest["r"] >= 4, "i"]))
        # Its speed is not asserted (tests never assert wall-clock times): about 1.8 s on a busy
        # 2-core machine, where pandas' python engine alone takes 8-10 s to parse it.


# --- names everywhere -------------------------------------------------------------------------


def test_new_names_are_accepted_everywhere(tmp_path: Path) -> None:
    for name in ("ml-1m", "ml-10m", "ml-20m"):
        assert name in DATASET_NAMES and name in BUILTIN_SPECS and name in KNOWN_SIZES
        assert DataConfig(name=name).name == name  # type: ignore[arg-type]  # a str from the loop
    assert KNOWN_SIZES["ml-10m"].n_interactions == 10_000_054
    assert KNOWN_SIZES["ml-20m"].n_interactions == 20_000_263
    with pytest.raises(ConfigError, match=r"allowed: ml-100k, ml-1m, ml-10m, ml-20m, synthetic, csv"):
        DataConfig(name="ml-25m")  # type: ignore[arg-type]  # an unknown name on purpose
    rows = {row["name"]: row for row in dataset_status(str(tmp_path))}
    assert list(rows) == ["ml-100k", "ml-1m", "ml-10m", "ml-20m", "synthetic"]
    assert rows["ml-10m"]["url"] == "https://files.grouplens.org/datasets/movielens/ml-10m.zip"
    assert rows["ml-20m"]["url"] == "https://files.grouplens.org/datasets/movielens/ml-20m.zip"
    assert rows["ml-20m"]["state"] == "missing" and "not downloaded" in str(rows["ml-20m"]["detail"])
    assert rows["ml-20m"]["path"] == str(tmp_path / "ml-20m")


def test_cli_dataset_flag_and_datasets_command(
    fixtures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rec_core.cli import main
    from rec_core.configs import coerce_value, field_types

    # `train --dataset X` sets DataConfig.name through coerce_value on its Literal, as here
    # (building the train flags would import every model module, torch included).
    name_type = field_types(DataConfig)["name"]
    assert coerce_value("data.name", name_type, "ml-20m") == "ml-20m"
    with pytest.raises(ConfigError, match="ml-10m, ml-20m"):
        coerce_value("data.name", name_type, "ml-25m")
    shutil.copytree(fixtures_dir / "ml-20m-tiny", tmp_path / "ml-20m")
    assert main(["datasets", "--data-dir", str(tmp_path)]) == 0
    lines = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()}
    assert lines["ml-20m"] == "ready" and lines["ml-10m"] == "missing" and lines["ml-1m"] == "missing"


def test_load_dataset_from_data_dir_and_zip_folder(
    fixtures_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rec_core.data.sizes import KNOWN_SIZES

    for name in ("ml-10m", "ml-20m"):  # the tiny folders are not the published datasets' sizes
        monkeypatch.delitem(KNOWN_SIZES, name)
    shutil.copytree(fixtures_dir / "ml-20m-tiny", tmp_path / "ml-20m")
    data = load_dataset(DataConfig(name="ml-20m", data_dir=str(tmp_path), download=False, min_rating=4))
    assert data.name == "ml-20m" and data.n_interactions == 4
    # ML-10M's zip unpacks to ml-10M100K/: a folder unzipped by hand is found under that name too.
    shutil.copytree(fixtures_dir / "ml-10m-tiny", tmp_path / "ml-10M100K")
    assert load_dataset(DataConfig(name="ml-10m", data_dir=str(tmp_path), download=False)).n_interactions == 8
    row = {r["name"]: r for r in dataset_status(str(tmp_path))}["ml-10m"]
    assert row["state"] == "ready" and row["path"] == str(tmp_path / "ml-10M100K")


# --- offline: fast, clear, nothing left behind ------------------------------------------------


@pytest.fixture()
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Name resolution fails, as on a machine without network: no test here reaches GroupLens."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)

    def offline(*args: object, **kwargs: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (test: no network)")

    monkeypatch.setattr(socket, "getaddrinfo", offline)


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("name", ["ml-100k", "ml-1m", "ml-10m", "ml-20m"])
def test_offline_download_fails_fast_and_clearly(tmp_path: Path, name: str) -> None:
    spec = BUILTIN_SPECS[name]
    start = time.perf_counter()
    with pytest.raises(DatasetUnavailable) as err:
        load_dataset(DataConfig(name=name, data_dir=str(tmp_path / "data")))  # type: ignore[arg-type]  # loop str
    assert time.perf_counter() - start < 5.0
    message = str(err.value)
    assert message.startswith(f"{name} is not available: downloading {spec.url} failed")
    assert (
        f"Download {spec.url}, unzip it and put its files ({', '.join(spec.files)}) in "
        f"{tmp_path / 'data' / name}" in message
    )
    assert "$REC_CORE_DATA" in message
    assert not (tmp_path / "data").exists()  # the folder it made for the download is gone again


def test_offline_message_names_the_zip_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailable, match=r"holds ml-10m/ \(or ml-10M100K/, as the zip unpacks\)"):
        ensure_dataset("ml-10m", tmp_path, download=False)


def test_hanging_name_resolution_is_cut_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A resolver that never answers (no DNS server) still fails within the deadline."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    release = threading.Event()

    def hang(*args: object, **kwargs: object) -> object:
        release.wait(30)
        raise socket.gaierror(socket.EAI_AGAIN, "released")

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    start = time.perf_counter()
    try:
        with pytest.raises(
            DatasetUnavailable,
            match=r"downloading https://files\.grouplens\.org/datasets/movielens/"
            r"ml-20m\.zip failed \(no connection within 2 s\)",
        ):
            ensure_dataset("ml-20m", tmp_path, timeout=1.0)
        assert time.perf_counter() - start < 4.0
    finally:
        release.set()
    assert sorted(os.listdir(tmp_path)) == []


# --- checksummed download from a local server -------------------------------------------------


def _zip_of(folder: Path, top: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, f"{top}/{path.name}")
    return buffer.getvalue()


def test_ml10m_zip_with_its_own_top_folder(http_server: LocalServer, fixtures_dir: Path, tmp_path: Path) -> None:
    body = _zip_of(fixtures_dir / "ml-10m-tiny", "ml-10M100K")
    http_server.routes["/ml-10m.zip"] = body
    spec = DatasetSpec(
        name="ml-10m",
        url=http_server.base + "/ml-10m.zip",
        files=ML10M_SPEC.files,
        zip_md5=hashlib.md5(body).hexdigest(),
        zip_folder="ml-10M100K",
    )
    folder = download_dataset(spec, tmp_path / "data")
    assert folder == tmp_path / "data" / "ml-10m"
    assert sorted(os.listdir(tmp_path / "data")) == ["ml-10m"]
    assert sorted(os.listdir(folder)) == ["movies.dat", "ratings.dat", "tags.dat"]
    assert load_ml10m(folder).n_interactions == 8


@pytest.mark.parametrize("spec", [ML10M_SPEC, ML20M_SPEC], ids=["ml-10m", "ml-20m"])
def test_zip_md5_mismatch_leaves_nothing(
    http_server: LocalServer, fixtures_dir: Path, tmp_path: Path, spec: DatasetSpec
) -> None:
    top = spec.zip_folder or spec.name
    http_server.routes[f"/{spec.name}.zip"] = _zip_of(fixtures_dir / f"{spec.name}-tiny", top)
    url = f"{http_server.base}/{spec.name}.zip"
    with pytest.raises(DatasetUnavailable, match="failed verification") as err:
        ensure_dataset(spec.name, tmp_path, url=url)  # the real spec: the tiny zip cannot match its MD5
    message = str(err.value)
    assert f"{spec.name}.zip has MD5 " in message and f"expected {spec.zip_md5}" in message
    assert f"{spec.url}.md5" in message and url in message
    assert sorted(os.listdir(tmp_path)) == []


def test_ml20m_ratings_size_floor(http_server: LocalServer, fixtures_dir: Path, tmp_path: Path) -> None:
    body = _zip_of(fixtures_dir / "ml-20m-tiny", "ml-20m")
    http_server.routes["/ml-20m.zip"] = body
    spec = DatasetSpec(
        name="ml-20m",
        url="",
        files=ML20M_SPEC.files,
        min_bytes=ML20M_SPEC.min_bytes,
        zip_md5=hashlib.md5(body).hexdigest(),
    )
    with pytest.raises(DatasetUnavailable, match=r"ratings\.csv has \d+ bytes, expected at least 300000000"):
        download_dataset(spec, tmp_path, url=http_server.base + "/ml-20m.zip")
    assert sorted(os.listdir(tmp_path)) == []


def test_pinned_zip_checksums_are_md5_hex() -> None:
    for spec in BUILTIN_SPECS.values():
        assert spec.zip_md5 is not None and len(spec.zip_md5) == 32 and int(spec.zip_md5, 16) >= 0
        assert spec.url == f"https://files.grouplens.org/datasets/movielens/{spec.name}.zip"


# --- the real ML-1M metadata (REC_CORE_DATA/ml-1m-metadata; ratings are not available) -------------


@pytest.fixture(scope="module")
def ml1m_metadata_dir() -> Path:
    """Folder with the real ML-1M movies.dat and users.dat. CI must have it: fails there, skips locally."""
    env = os.environ.get("REC_CORE_DATA", "").strip()
    root = Path(env) if env else Path(__file__).resolve().parent.parent.parent / "shared" / "data"
    folder = root / "ml-1m-metadata"
    if (folder / "movies.dat").is_file() and (folder / "users.dat").is_file():
        return folder
    message = f"real ML-1M metadata not found in {folder}; set REC_CORE_DATA to the folder holding ml-1m-metadata/"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


ML1M_GENRES = set(GENRES) - {"unknown"}  # the ML-100K list without its "unknown" slot


def test_real_ml1m_metadata_readers(ml1m_metadata_dir: Path) -> None:
    movies = read_movies_dat(ml1m_metadata_dir / "movies.dat")
    assert len(movies) == 3883 and movies.index[0] == "1" and movies.index[-1] == "3952"
    assert movies.loc["1"].tolist() == ["Toy Story", 1995, ["Animation", "Children's", "Comedy"]]
    assert movies.loc["73", "title"] == "Les Misérables"  # latin-1 decoded
    assert movies["year"].notna().all()
    assert set().union(*movies["genres"]) == ML1M_GENRES
    users = read_ml1m_users(ml1m_metadata_dir / "users.dat")
    assert len(users) == 6040 and list(users.columns) == ["age", "gender", "occupation", "zip"]
    assert users.loc["1"].tolist() == ["under 18", "female", "K-12 student", "48067"]
    assert users.loc["2"].tolist() == ["56+", "male", "self-employed", "70072"]
    assert set(users["age"]) == set(ML1M_AGES.values())
    assert set(users["occupation"]) == set(ML1M_OCCUPATIONS)
    assert set(users["gender"]) == {"male", "female"}


def test_real_ml1m_metadata_with_generated_ratings(ml1m_metadata_dir: Path, tmp_path: Path) -> None:
    """load_ml1m on the real metadata (linked, not copied) and generated ratings over its ids."""
    folder = tmp_path / "ml-1m"
    folder.mkdir()
    for name in ("movies.dat", "users.dat"):
        (folder / name).symlink_to(ml1m_metadata_dir / name)
    movie_ids = read_movies_dat(ml1m_metadata_dir / "movies.dat").index.astype(int).to_numpy()
    rng = np.random.default_rng(1)
    n = 50_000
    users = rng.integers(1, 6041, n)
    items = rng.choice(movie_ids, n)
    stars = rng.integers(1, 6, n)
    times = rng.integers(956_703_932, 1_046_454_590, n)
    lines = [f"{u}::{i}::{r}::{t}\n" for u, i, r, t in zip(users, items, stars, times)]
    (folder / "ratings.dat").write_text("1::1::5::978300760\n" + "".join(lines))  # user 1 likes Toy Story
    data = load_ml1m(folder, min_rating=4)
    assert data.ratings.min() == 4.0
    assert data.user_text.texts[data.user_ids.tolist().index("1")] == "A female user aged under 18, K-12 student."
    toy = data.item_ids.tolist().index("1")
    assert data.item_text.texts[toy] == "Toy Story (1995). Genres: Animation, Children's, Comedy."
    assert all("None" not in t and "()" not in t for t in data.item_text.texts)
    _check_item_spans(data)
