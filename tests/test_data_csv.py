"""CSV source: column mapping, templates, warnings, and a named error for every bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rec_core.data import DataConfig, load_dataset, validate_csv
from rec_core.errors import ConfigError, DataError


@pytest.fixture()
def csv_dir(fixtures_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "csv"
    shutil.copytree(fixtures_dir / "csv", folder)
    return folder


def _config(folder: Path, **overrides: object) -> DataConfig:
    base: dict[str, object] = {
        "name": "csv",
        "csv_interactions": str(folder / "interactions.csv"),
        "csv_items": str(folder / "items.csv"),
        "csv_users": str(folder / "users.csv"),
        "csv_rating_col": "rating",
        "csv_time_col": "time",
    }
    base.update(overrides)
    return DataConfig(**base)  # type: ignore[arg-type]  # fields from a dict of mixed values


def test_load_with_item_template(csv_dir: Path) -> None:
    data = load_dataset(_config(csv_dir, csv_item_template="{title}. Genres: {genres}."))
    assert data.name == "csv"
    assert (data.n_users, data.n_items, data.n_interactions) == (3, 4, 6)
    assert data.user_ids.tolist() == ["u1", "u2", "u3"]
    assert data.item_ids.tolist() == ["i1", "i2", "i3", "i4"]
    assert data.item_text.texts == (
        "Alpha Movie. Genres: Action|Comedy.",
        "Beta Film.",  # empty genres cell: the label goes too
        "Gamma Story. Genres: Drama.",
        "i4",  # interacted but not in the item table: its id
    )
    assert data.item_text.spans[3] == (("id", 0, 2),)
    assert data.item_text.spans[0][0] == ("title", 0, 11)
    assert data.timestamps.tolist() == [100, 200, 150, 300, 50, 60]  # rows by (user, time)
    assert data.ratings.tolist() == [5.0, 3.0, 4.0, 2.0, 5.0, 1.0]
    assert str(data.item_fields["year"].dtype) == "Int64"
    assert list(data.item_fields.columns) == ["title", "genres", "year"]
    assert data.item_fields["title"].isna().tolist() == [False, False, False, True]


def test_default_labelled_texts(csv_dir: Path) -> None:
    data = load_dataset(_config(csv_dir))
    assert data.item_text.texts[0] == "title: Alpha Movie. genres: Action|Comedy. year: 1999."
    assert data.item_text.texts[2] == "title: Gamma Story. genres: Drama."
    assert data.user_text.texts == ("age: 30. occupation: engineer.", "occupation: teacher.", "age: 45.")
    text, spans = data.user_text.texts[0], data.user_text.spans[0]
    assert [(n, text[s:e]) for n, s, e in spans] == [("age", "30"), ("occupation", "engineer")]


def test_validate_reports_warnings(csv_dir: Path) -> None:
    warnings = validate_csv(_config(csv_dir))
    assert any("1 interacted items are not in" in w and "i4" in w for w in warnings)
    assert any("1 items have no interactions and are ignored" in w for w in warnings)


def test_minimal_csv_without_tables(tmp_path: Path) -> None:
    path = tmp_path / "inter.csv"
    path.write_text("user;item\n9;b\n10;a\n9;a\n9;b\n\n")
    data = load_dataset(DataConfig(name="csv", csv_interactions=str(path), csv_sep=";"))
    assert data.user_ids.tolist() == ["9", "10"]  # numeric ids sort numerically
    assert data.ratings.tolist() == [1.0, 1.0, 1.0]
    assert data.user_text.texts == ("9", "10") and data.item_text.texts == ("a", "b")
    assert any("dropped 1 duplicate" in n for n in data.notes)
    assert data.item_fields.shape == (2, 0)


def test_min_rating(csv_dir: Path) -> None:
    data = load_dataset(_config(csv_dir, min_rating=4))
    assert data.n_interactions == 3 and data.item_ids.tolist() == ["i1", "i2"]


# --- errors -----------------------------------------------------------------------------------


def test_missing_column_lists_existing(csv_dir: Path) -> None:
    with pytest.raises(DataError) as err:
        load_dataset(_config(csv_dir, csv_user_col="userId"))
    assert err.value.field == "csv_user_col"
    assert "'userId' is not in" in str(err.value) and "interactions.csv" in str(err.value)
    assert "user, item, rating, time" in str(err.value)
    with pytest.raises(DataError) as err:
        load_dataset(_config(csv_dir, csv_item_id_col="movie"))
    assert err.value.field == "csv_item_id_col" and "items.csv" in str(err.value)


@pytest.mark.parametrize(("column", "field"), [("rating", "csv_rating_col"), ("time", "csv_time_col")])
def test_non_numeric_values(csv_dir: Path, column: str, field: str) -> None:
    path = csv_dir / "interactions.csv"
    lines = path.read_text().splitlines()
    cells = lines[3].split(",")
    cells[2 if column == "rating" else 3] = "high"
    lines[3] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as err:
        load_dataset(_config(csv_dir))
    assert err.value.field == field
    assert "interactions.csv line 4" in str(err.value) and "'high', not a number" in str(err.value)


def test_not_utf8(csv_dir: Path) -> None:
    path = csv_dir / "items.csv"
    path.write_bytes(path.read_text().replace("Beta Film", "Béta Film").encode("latin-1"))
    with pytest.raises(DataError) as err:
        load_dataset(_config(csv_dir))
    assert err.value.field == "csv_items"
    assert "is not UTF-8" in str(err.value) and "line 3" in str(err.value)


@pytest.mark.parametrize(("content", "message"), [(b"", "is empty"), (b"user,item\n", "header but no rows")])
def test_empty_files(csv_dir: Path, content: bytes, message: str) -> None:
    (csv_dir / "interactions.csv").write_bytes(content)
    with pytest.raises(DataError, match=message) as err:
        load_dataset(_config(csv_dir, csv_rating_col=None, csv_time_col=None))
    assert err.value.field == "csv_interactions"


def test_wrong_field_count(csv_dir: Path) -> None:
    path = csv_dir / "interactions.csv"
    path.write_text(path.read_text() + "u4,i1,5,400,extra\n")
    with pytest.raises(DataError, match=r"Expected 4 fields in line 8, saw 5") as err:
        load_dataset(_config(csv_dir))
    assert err.value.field == "csv_interactions"


def test_empty_id_cell(csv_dir: Path) -> None:
    path = csv_dir / "interactions.csv"
    path.write_text(path.read_text() + ",i1,5,400\n")
    with pytest.raises(DataError, match=r"line 8: column 'user' is empty") as err:
        load_dataset(_config(csv_dir))
    assert err.value.field == "csv_user_col"


def test_missing_file(csv_dir: Path) -> None:
    with pytest.raises(DataError, match="file not found") as err:
        load_dataset(_config(csv_dir, csv_users=str(csv_dir / "nope.csv")))
    assert err.value.field == "csv_users"


def test_template_field_not_a_column(csv_dir: Path) -> None:
    with pytest.raises(ConfigError) as err:
        validate_csv(_config(csv_dir, csv_item_template="{title} by {director}"))
    assert err.value.field == "csv_item_template"
    assert "{director}" in str(err.value) and "item, title, genres, year" in str(err.value)


def test_duplicate_ids_in_item_table(csv_dir: Path) -> None:
    path = csv_dir / "items.csv"
    path.write_text(path.read_text() + "i1,Alpha Again,Drama,2000\n")
    data = load_dataset(_config(csv_dir))
    assert data.item_text.texts[0].startswith("title: Alpha Movie.")
    assert any("1 rows repeat an id" in n for n in data.notes)


def test_blank_rows_fall_back_to_id(csv_dir: Path) -> None:
    (csv_dir / "users.csv").write_text("user,age\nu1,30\nu2,\nu3\n")
    data = load_dataset(_config(csv_dir))
    assert data.user_text.texts == ("age: 30.", "u2", "u3")
    assert any("2 users have only empty cells" in n for n in data.notes)
