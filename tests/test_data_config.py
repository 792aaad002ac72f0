"""DataConfig validation, data-dir resolution and text templates with spans."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from rec_core.data import DataConfig, TextTemplate, dataset_status, render_text_table, resolve_data_dir
from rec_core.errors import ConfigError

# --- DataConfig -------------------------------------------------------------------------------


def test_defaults_are_valid_frozen_and_hashable() -> None:
    config = DataConfig()
    assert config.name == "ml-100k" and config.min_rating is None and config.download
    assert hash(config) == hash(DataConfig())
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.name = "ml-1m"  # type: ignore[misc]  # frozen: must raise


@pytest.mark.parametrize(
    ("kwargs", "field", "allowed"),
    [
        ({"name": "movielens"}, "name", "ml-100k, ml-1m, ml-10m, ml-20m, synthetic, csv"),
        ({"min_rating": float("nan")}, "min_rating", "finite"),
        ({"min_rating": "4"}, "min_rating", "number"),
        ({"data_dir": ""}, "data_dir", "folder"),
        ({"download": "yes"}, "download", "True or False"),
        ({"synthetic_users": 0}, "synthetic_users", ">= 1"),
        ({"synthetic_genres": 13}, "synthetic_genres", "at most 12"),
        ({"synthetic_genres": 1}, "synthetic_genres", ">= 2"),
        ({"synthetic_interactions_per_user": 300}, "synthetic_interactions_per_user", "<= synthetic_items // 2"),
        ({"synthetic_seed": -1}, "synthetic_seed", ">= 0"),
        ({"csv_sep": "::"}, "csv_sep", "one character"),
        ({"csv_user_col": " "}, "csv_user_col", "non-empty"),
        ({"csv_item_template": "{title"}, "csv_item_template", "does not parse"),
        ({"csv_item_template": "{} and {title}"}, "csv_item_template", "empty {}"),
        ({"name": "csv"}, "csv_interactions", "needs the path"),
        ({"name": "csv", "csv_interactions": "a.csv", "min_rating": 4.0}, "min_rating", "csv_rating_col"),
        ({"name": "csv", "csv_interactions": "a.csv", "csv_item_template": "{x}"}, "csv_item_template", "csv_items"),
        ({"name": "csv", "csv_interactions": "a.csv", "csv_item_col": "user"}, "csv_user_col,csv_item_col", "differ"),
    ],
)
def test_bad_fields_name_themselves(kwargs: dict[str, object], field: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as err:
        DataConfig(**kwargs)  # type: ignore[arg-type]  # bad values on purpose
    assert err.value.field == field
    assert allowed in str(err.value)


def test_resolve_data_dir_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REC_CORE_DATA", str(tmp_path / "env"))
    assert resolve_data_dir(str(tmp_path / "explicit")) == tmp_path / "explicit"
    assert resolve_data_dir(None) == tmp_path / "env"
    monkeypatch.delenv("REC_CORE_DATA")
    fallback = resolve_data_dir(None)
    assert fallback.name == "data" and "rec_core" in fallback.parts


def test_dataset_status_offline(fixtures_dir: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(fixtures_dir / "ml-100k-tiny", tmp_path / "ml-100k")
    (tmp_path / "ml-1m").mkdir()
    rows = {row["name"]: row for row in dataset_status(str(tmp_path))}
    assert set(rows) == {"ml-100k", "ml-1m", "ml-10m", "ml-20m", "synthetic"}
    assert rows["ml-100k"]["state"] == "ready" and rows["ml-100k"]["path"] == str(tmp_path / "ml-100k")
    assert rows["ml-1m"]["state"] == "missing" and "ratings.dat" in str(rows["ml-1m"]["detail"])
    assert rows["ml-1m"]["url"] == "https://files.grouplens.org/datasets/movielens/ml-1m.zip"
    empty = {row["name"]: row for row in dataset_status(str(tmp_path / "nothing"))}
    assert empty["ml-100k"]["state"] == "missing" and "not downloaded" in str(empty["ml-100k"]["detail"])
    assert empty["synthetic"]["state"] == "ready"


# --- templates --------------------------------------------------------------------------------

ITEM = "{title} ({year}). Genres: {genres}."
GENRES = ["Animation", "Children's", "Comedy"]


@pytest.mark.parametrize(
    ("values", "text"),
    [
        (
            {"title": "Toy Story", "year": 1995, "genres": GENRES},
            "Toy Story (1995). Genres: Animation, Children's, Comedy.",
        ),
        ({"title": "Toy Story", "year": None, "genres": GENRES}, "Toy Story. Genres: Animation, Children's, Comedy."),
        (
            {"title": "Toy Story", "year": float("nan"), "genres": GENRES},
            "Toy Story. Genres: Animation, Children's, Comedy.",
        ),
        ({"title": "Toy Story", "year": pd.NA, "genres": []}, "Toy Story."),
        ({"title": "Toy Story", "year": 1995, "genres": None}, "Toy Story (1995)."),
        ({"title": "", "year": 1995, "genres": GENRES}, "(1995). Genres: Animation, Children's, Comedy."),
        ({"title": None, "year": None, "genres": None}, ""),
        ({"title": "Toy Story", "year": 1995.0, "genres": ("A", None, "B")}, "Toy Story (1995). Genres: A, B."),
    ],
)
def test_item_template_drops_missing_values(values: dict[str, object], text: str) -> None:
    rendered, spans = TextTemplate.parse(ITEM).render(values)
    assert rendered == text
    assert "None" not in rendered and "nan" not in rendered
    for _name, start, end in spans:
        assert rendered[start:end] and rendered[start:end] in text


@pytest.mark.parametrize(
    ("template", "values", "text"),
    [
        (
            "A {age}-year-old {gender} {occupation}.",
            {"age": 24, "gender": "male", "occupation": "technician"},
            "A 24-year-old male technician.",
        ),
        (
            "A {age}-year-old {gender} {occupation}.",
            {"gender": "male", "occupation": "technician"},
            "A male technician.",
        ),
        ("A {age}-year-old {gender} {occupation}.", {"age": 24, "gender": "male"}, "A 24-year-old male."),
        ("A {gender} user aged {age}, {occupation}.", {"gender": "male", "age": "25-34"}, "A male user aged 25-34."),
        ("Genres: {genres}. Title: {title}.", {"title": "X"}, "Title: X."),
        ("{title} [{tag}] ({year})", {"title": "X", "year": 2001}, "X (2001)"),
        ("Rating {rating:.1f}", {"rating": 4}, "Rating 4.0"),
    ],
)
def test_template_rules(template: str, values: dict[str, object], text: str) -> None:
    assert TextTemplate.parse(template).render(values)[0] == text


def test_spans_point_at_values() -> None:
    text, spans = TextTemplate.parse(ITEM).render({"title": "Toy Story", "year": 1995, "genres": GENRES})
    assert spans == (("title", 0, 9), ("year", 11, 15), ("genres", 26, 55))
    assert [text[s:e] for _, s, e in spans] == ["Toy Story", "1995", "Animation, Children's, Comedy"]
    text, spans = TextTemplate.parse(ITEM).render({"title": "Toy Story", "genres": GENRES})
    assert [(n, text[s:e]) for n, s, e in spans] == [
        ("title", "Toy Story"),
        ("genres", "Animation, Children's, Comedy"),
    ]


def test_render_table_and_unknown_field() -> None:
    table = pd.DataFrame({"title": ["A", "B"], "year": pd.array([2000, None], dtype="Int64"), "genres": [["x"], []]})
    texts = render_text_table(ITEM, table)
    assert texts.texts == ("A (2000). Genres: x.", "B.")
    assert texts.spans[1] == (("title", 0, 1),)
    with pytest.raises(ConfigError) as err:
        render_text_table("{title} by {director}", table, config_field="csv_item_template")
    assert err.value.field == "csv_item_template"
    assert "{director}" in str(err.value) and "available: title, year, genres" in str(err.value)


def test_labelled_template_handles_odd_column_names() -> None:
    template = TextTemplate.labelled(["name {x}", "a.b"])
    assert template.render({"name {x}": "v", "a.b": 3})[0] == "name {x}: v. a.b: 3."


def test_config_round_trips_through_json() -> None:
    import json

    config = DataConfig(name="synthetic", synthetic_users=50, min_rating=3.5)
    assert DataConfig(**json.loads(json.dumps(dataclasses.asdict(config)))) == config
