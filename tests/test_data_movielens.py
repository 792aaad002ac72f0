"""MovieLens loaders: tiny fixtures in the real formats, every bad-input path, and the real ML-100K."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rec_core.data import (
    DataConfig,
    InteractionData,
    load_dataset,
    load_ml1m,
    load_ml100k,
    parse_movielens_title,
)
from rec_core.data.text_template import format_value
from rec_core.errors import ConfigError, DataError


def _check_spans(data: InteractionData) -> None:
    """Every span covers exactly the rendered value of its field."""
    for table, fields in ((data.item_text, data.item_fields), (data.user_text, data.user_fields)):
        columns = {name: fields[name].tolist() for name in fields.columns}
        for k, (text, spans) in enumerate(zip(table.texts, table.spans)):
            for name, start, end in spans:
                assert text[start:end] == format_value(columns[name][k]), (text, name)


@pytest.fixture()
def tiny100k(fixtures_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of the tiny ML-100K, for tests that break it."""
    folder = tmp_path / "ml-100k"
    shutil.copytree(fixtures_dir / "ml-100k-tiny", folder)
    return folder


# --- titles -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "title", "year"),
    [
        ("Toy Story (1995)", "Toy Story", 1995),
        ("Usual Suspects, The (1995)", "The Usual Suspects", 1995),
        ("Misérables, Les (1995)", "Les Misérables", 1995),
        ("Postino, Il (1994)", "Il Postino", 1994),
        ("Homme d'à côté, L' (1981)", "L'Homme d'à côté", 1981),
        ("Seven (Se7en) (1995)", "Seven (Se7en)", 1995),
        (
            "City of Lost Children, The (Cité des enfants perdus, La) (1995)",
            "The City of Lost Children (La Cité des enfants perdus)",
            1995,
        ),
        ("Heidi Fleiss: Hollywood Madam (1995) ", "Heidi Fleiss: Hollywood Madam", 1995),
        (
            "Land Before Time III: The Time of the Great Giving (1995) (V)",
            "Land Before Time III: The Time of the Great Giving",
            1995,
        ),
        ("unknown", "unknown", None),
    ],
)
def test_parse_movielens_title(raw: str, title: str, year: int | None) -> None:
    assert parse_movielens_title(raw) == (title, year)


# --- tiny ML-100K -----------------------------------------------------------------------------


def test_tiny_ml100k_counts_ids_and_order(fixtures_dir: Path) -> None:
    data = load_ml100k(fixtures_dir / "ml-100k-tiny")
    # Item 6 and user 11 are in the files but never rated: not indexed.
    assert (data.n_users, data.n_items, data.n_interactions) == (4, 5, 10)
    assert data.user_ids.tolist() == ["1", "2", "3", "10"]  # numeric order, not "10" < "2"
    assert "1 items in u.item have no interactions and are not indexed" in data.notes
    assert "1 users in u.user have no interactions and are not indexed" in data.notes
    assert data.item_ids.tolist() == ["1", "2", "3", "4", "5"]
    assert data.users.dtype == np.int64 and data.items.dtype == np.int64
    assert data.ratings.dtype == np.float32 and data.timestamps.dtype == np.int64
    order = np.lexsort((data.timestamps, data.users))
    assert (order == np.arange(data.n_interactions)).all()  # rows ordered by user, then time


def test_tiny_ml100k_dedup_keeps_latest(fixtures_dir: Path) -> None:
    data = load_ml100k(fixtures_dir / "ml-100k-tiny")
    assert any("dropped 1 duplicate" in note for note in data.notes)
    row = np.flatnonzero((data.users == 0) & (data.items == 0))
    assert len(row) == 1
    assert data.ratings[row[0]] == 5.0 and data.timestamps[row[0]] == 881250949


def test_tiny_ml100k_texts_and_fields(fixtures_dir: Path) -> None:
    data = load_ml100k(fixtures_dir / "ml-100k-tiny")
    assert data.item_text.texts == (
        "Paper Kites (1995). Genres: Animation, Children's, Comedy.",
        "The Quiet Harbour (1995). Genres: Crime, Thriller.",
        "Les Mémoires (1995). Genres: Drama, Musical.",
        "unknown.",  # no year, only the "unknown" flag: nothing but the title is left
        "Lena Marsh: Night Editor (1995). Genres: Documentary.",
    )
    assert data.user_text.texts == (
        "A 31-year-old male engineer.",
        "A 47-year-old female.",  # occupation "other" stays a field, not text
        "A 29-year-old male writer.",
        "A 36-year-old female.",  # "none"
    )
    assert data.item_text.spans[0] == (("title", 0, 11), ("year", 13, 17), ("genres", 28, 57))
    assert data.item_text.field_of(0, 29) == "genres" and data.item_text.field_of(0, 11) == ""
    _check_spans(data)
    fields = data.item_fields
    assert list(fields.columns) == ["title", "year", "genres"]
    assert str(fields["year"].dtype) == "Int64" and pd.isna(fields["year"].iloc[3])
    assert fields["genres"].iloc[0] == ["Animation", "Children's", "Comedy"]
    assert fields["genres"].iloc[3] == []
    users = data.user_fields
    assert list(users.columns) == ["age", "gender", "occupation", "zip"]
    assert users.iloc[1].tolist() == [47, "female", "other", "20002"]


def test_tiny_ml100k_min_rating(fixtures_dir: Path) -> None:
    data = load_ml100k(fixtures_dir / "ml-100k-tiny", min_rating=4)
    assert data.n_interactions == 6 and (data.ratings >= 4).all()
    assert data.item_ids.tolist() == ["1", "2", "3", "5"]  # item 4 only had a 2
    assert any("kept 6 of 10" in note for note in data.notes)
    assert any("items lost every interaction" in note for note in data.notes)
    with pytest.raises(DataError) as err:
        load_ml100k(fixtures_dir / "ml-100k-tiny", min_rating=6)
    assert err.value.field == "min_rating"


def test_load_dataset_reads_tiny_ml100k_from_data_dir(
    fixtures_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rec_core.data.sizes import KNOWN_SIZES

    monkeypatch.delitem(KNOWN_SIZES, "ml-100k")  # the tiny folder is not the published ML-100K's size
    shutil.copytree(fixtures_dir / "ml-100k-tiny", tmp_path / "ml-100k")
    data = load_dataset(DataConfig(name="ml-100k", data_dir=str(tmp_path), download=False))
    assert data.name == "ml-100k" and data.n_interactions == 10


# --- tiny ML-1M -------------------------------------------------------------------------------


def test_tiny_ml1m(fixtures_dir: Path) -> None:
    data = load_ml1m(fixtures_dir / "ml-1m-tiny")
    assert (data.n_users, data.n_items, data.n_interactions) == (4, 3, 6)
    assert data.item_text.texts == (
        "Paper Kites (1995). Genres: Animation, Children's, Comedy.",
        "Les Mémoires (1995). Genres: Drama, Musical.",
        "The City of Paper Lanterns (La Cité des lanternes) (1995). Genres: Adventure, Sci-Fi.",
    )
    assert data.user_text.texts == (
        "A female user aged under 18, K-12 student.",
        "A male user aged 56+, self-employed.",
        "A male user aged 25-34, programmer.",
        "A female user aged 45-49.",  # occupation 0 is "other or not specified"
    )
    assert data.user_fields["age"].tolist() == ["under 18", "56+", "25-34", "45-49"]
    assert data.user_fields["zip"].iloc[3] == "02460"  # zips stay strings
    _check_spans(data)


def test_ml1m_bad_codes(fixtures_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ml-1m"
    shutil.copytree(fixtures_dir / "ml-1m-tiny", folder)
    users = folder / "users.dat"
    users.write_text(users.read_text().replace("2::M::56::16", "2::M::57::16"))
    with pytest.raises(DataError, match=r"users\.dat: line 2: Age code 57"):
        load_ml1m(folder)
    users.write_text(users.read_text().replace("2::M::57::16", "2::M::56::21"))
    with pytest.raises(DataError, match=r"line 2: Occupation code 21"):
        load_ml1m(folder)


def test_ml1m_ratings_wrong_field_count(fixtures_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ml-1m"
    shutil.copytree(fixtures_dir / "ml-1m-tiny", folder)
    ratings = folder / "ratings.dat"
    ratings.write_text(ratings.read_text() + "5::1::3\n")
    with pytest.raises(DataError, match=r"ratings\.dat: line 7: expected 4 '::'-separated fields"):
        load_ml1m(folder)
    ratings.write_text("1:x:1::5::978300760\n")  # a stray field between separators
    with pytest.raises(DataError, match=r"line 1: expected 4"):
        load_ml1m(folder)


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["u.data", "u.item", "u.user", "u.genre"])
def test_missing_file_is_named(tiny100k: Path, missing: str) -> None:
    (tiny100k / missing).unlink()
    with pytest.raises(DataError, match=rf"{missing}: file is missing"):
        load_ml100k(tiny100k)


def test_truncated_u_data_reports_line(tiny100k: Path) -> None:
    path = tiny100k / "u.data"
    content = path.read_bytes()
    path.write_bytes(content[: content.rstrip().rfind(b"\t")])  # cut inside the last line
    with pytest.raises(DataError, match=r"u\.data: line 11: expected 4 '\\t'-separated fields .* found 3"):
        load_ml100k(tiny100k)


def test_extra_field_in_u_data(tiny100k: Path) -> None:
    path = tiny100k / "u.data"
    lines = path.read_text().splitlines()
    lines[2] += "\t7"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"line 3: expected 4 .* found 5"):
        load_ml100k(tiny100k)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("abc\t1\t5\t881250949", r"line 12: user id 'abc' is not an integer"),
        ("1\t1.5\t5\t881250949", r"line 12: item id '1.5' is not an integer"),
        ("1\t1\tfive\t881250949", r"line 12: rating 'five' is not a number"),
        ("1\t1\t5\tnoon", r"line 12: timestamp 'noon' is not an integer"),
    ],
)
def test_non_numeric_fields_in_u_data(tiny100k: Path, row: str, message: str) -> None:
    path = tiny100k / "u.data"
    path.write_text(path.read_text() + row + "\n")
    with pytest.raises(DataError, match=message):
        load_ml100k(tiny100k)


@pytest.mark.parametrize("content", ["", "\n\n"])
def test_empty_u_data(tiny100k: Path, content: str) -> None:
    (tiny100k / "u.data").write_text(content)
    with pytest.raises(DataError, match=r"u\.data: no interactions"):
        load_ml100k(tiny100k)


def test_bad_u_item_rows(tiny100k: Path) -> None:
    path = tiny100k / "u.item"
    original = path.read_bytes()
    lines = original.split(b"\n")
    lines[2] = lines[2].rsplit(b"|", 3)[0]  # drop three genre flags
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(DataError, match=r"u\.item: line 3: expected 24 '\|'-separated fields .* found 21"):
        load_ml100k(tiny100k)
    path.write_bytes(original.replace(b"1|Paper Kites", b"x|Paper Kites"))
    with pytest.raises(DataError, match=r"u\.item: line 1: movie id 'x' is not an integer"):
        load_ml100k(tiny100k)
    path.write_bytes(original + original.split(b"\n")[0] + b"\n")
    with pytest.raises(DataError, match=r"line 7: movie id 1 appears twice"):
        load_ml100k(tiny100k)


def test_rated_item_missing_from_u_item(tiny100k: Path) -> None:
    path = tiny100k / "u.item"
    kept = [line for line in path.read_bytes().split(b"\n") if not line.startswith(b"5|")]
    path.write_bytes(b"\n".join(kept))
    with pytest.raises(DataError, match=r"u\.item: 1 items with interactions have no row here \(ids 5\)"):
        load_ml100k(tiny100k)


def test_bad_u_user_age(tiny100k: Path) -> None:
    path = tiny100k / "u.user"
    path.write_text(path.read_text().replace("3|29|M", "3|twenty|M"))
    with pytest.raises(DataError, match=r"u\.user: line 3: age 'twenty' is not an integer"):
        load_ml100k(tiny100k)


def test_unknown_dataset_name_lists_allowed() -> None:
    with pytest.raises(ConfigError, match=r"ml-100k, ml-1m, ml-10m, ml-20m, synthetic, csv") as err:
        DataConfig(name="ml-25m")  # type: ignore[arg-type]  # an unknown name on purpose
    assert err.value.field == "name"


# --- the real ML-100K (REC_CORE_DATA; required in CI) -----------------------------------------


def test_real_ml100k(ml100k_dir: Path) -> None:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        data = load_ml100k(ml100k_dir)
        times.append(time.perf_counter() - start)
    assert min(times) < 1.0, f"ML-100K loads in {min(times):.2f} s; it must take < 1 s"
    assert (data.n_users, data.n_items, data.n_interactions) == (943, 1682, 100000)
    assert data.notes == ()  # ML-100K has no duplicate pairs
    assert data.item_ids[0] == "1" and data.user_ids[0] == "1"
    assert data.item_text.texts[0] == "Toy Story (1995). Genres: Animation, Children's, Comedy."
    assert data.user_text.texts[0] == "A 24-year-old male technician."
    assert data.user_text.spans[0] == (("age", 2, 4), ("gender", 14, 18), ("occupation", 19, 29))
    assert data.item_text.texts[11] == "The Usual Suspects (1995). Genres: Crime, Thriller."
    _check_spans(data)
    assert all("None" not in t and "()" not in t for t in data.item_text.texts)


def test_real_ml100k_min_rating(ml100k_dir: Path) -> None:
    raw = np.loadtxt(ml100k_dir / "u.data", dtype=np.int64)
    data = load_ml100k(ml100k_dir, min_rating=4)
    assert data.n_interactions == int((raw[:, 2] >= 4).sum())
    assert data.ratings.min() == 4.0


def test_real_ml100k_through_env(ml100k_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REC_CORE_DATA", str(ml100k_dir.parent))
    data = load_dataset(DataConfig(download=False))
    assert data.summary()["n_interactions"] == 100000
