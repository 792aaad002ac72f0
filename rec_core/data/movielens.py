"""MovieLens ML-100K, ML-1M, ML-10M and ML-20M loaders (GroupLens file formats).

ML-100K: `u.data` (tab: user item rating timestamp), `u.item` (pipe: id|title|release|video
release|url|19 genre flags), `u.genre` (name|index), `u.user` (id|age|gender|occupation|zip).
ML-1M: `ratings.dat`, `movies.dat` (id::title::genre|genre), `users.dat`
(id::gender::age code::occupation code::zip), all `::` separated, latin-1.
ML-10M (`ml-10M100K/`): `ratings.dat` (half-star ratings) and `movies.dat` as ML-1M;
`tags.dat` is not read. ML-20M: `ratings.csv` (userId,movieId,rating,timestamp) and
`movies.csv` (movieId,title,genres; titles with commas are quoted), with headers, UTF-8.
ML-10M and ML-20M have no user metadata: their user texts are empty, so text models fall back
to user IDs (`use_user_text` turns itself off when every user text is empty).

Ratings files are read by pandas' C parser (`::` as two `:` separators, never the slow python
engine): ~0.3 s per million lines; that file reading (decoding, rows, ratings) is in
`movielens_files`. Only users and items with an interaction are indexed (see `indexing`), so
ML-100K gives 943 users and 1682 items. Every malformed file raises DataError naming the file
and line.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rec_core.data.indexing import IndexedInteractions, assemble, index_interactions
from rec_core.data.interactions import InteractionData, TextTable
from rec_core.data.movielens_files import as_int, decode, read_ratings, split_rows
from rec_core.data.text_template import render_text_table
from rec_core.errors import DataError

__all__ = [
    "load_ml100k",
    "load_ml1m",
    "load_ml10m",
    "load_ml20m",
    "read_movies_dat",
    "read_movies_csv",
    "read_ml1m_users",
    "parse_movielens_title",
    "ITEM_TEMPLATE",
    "ML100K_USER_TEMPLATE",
    "ML1M_USER_TEMPLATE",
    "ML1M_AGES",
    "ML1M_OCCUPATIONS",
    "ML100K_FILES",
    "ML1M_FILES",
    "ML10M_FILES",
    "ML20M_FILES",
]

ITEM_TEMPLATE = "{title} ({year}). Genres: {genres}."
ML100K_USER_TEMPLATE = "A {age}-year-old {gender} {occupation}."
ML1M_USER_TEMPLATE = "A {gender} user aged {age}, {occupation}."
ML100K_FILES: tuple[str, ...] = ("u.data", "u.item", "u.user", "u.genre")
ML1M_FILES: tuple[str, ...] = ("ratings.dat", "movies.dat", "users.dat")
ML10M_FILES: tuple[str, ...] = ("ratings.dat", "movies.dat")
ML20M_FILES: tuple[str, ...] = ("ratings.csv", "movies.csv")

# ML-1M README: age is a bucket code, occupation a code 0..20.
ML1M_AGES: dict[int, str] = {
    1: "under 18",
    18: "18-24",
    25: "25-34",
    35: "35-44",
    45: "45-49",
    50: "50-55",
    56: "56+",
}
ML1M_OCCUPATIONS: tuple[str, ...] = (
    "other",
    "academic/educator",
    "artist",
    "clerical/admin",
    "college/grad student",
    "customer service",
    "doctor/health care",
    "executive/managerial",
    "farmer",
    "homemaker",
    "K-12 student",
    "lawyer",
    "programmer",
    "retired",
    "sales/marketing",
    "scientist",
    "self-employed",
    "technician/engineer",
    "tradesman/craftsman",
    "unemployed",
    "writer",
)
_GENDERS = {"M": "male", "F": "female"}
# Occupations that read badly in "A 24-year-old male other.": left out of the text only.
_VAGUE_OCCUPATIONS = frozenset({"other", "none"})
# "unknown" (ML-100K's flag) and "(no genres listed)" (ML-10M, ML-20M) mean "no genre known",
# not a genre: left out of `genres`.
_NOT_A_GENRE = frozenset({"unknown", "(no genres listed)"})

_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})\)(?:\s*\([^()]*\))*\s*$")
_ALTERNATES = re.compile(r"^(?P<main>.*?)(?P<alts>(?:\s*\([^()]*\))*)$")
_ARTICLE = re.compile(
    r"^(?P<body>.+), (?P<article>The|A|An|La|Le|Les|L'|Il|El|Das|Der|Die|Det|Den|Los|Las|Lo|Un|Une|Una|Gli)$"
)


def parse_movielens_title(raw: str) -> tuple[str, int | None]:
    """("The Usual Suspects", 1995) from "Usual Suspects, The (1995)"; year None if absent.

    Trailing articles move to the front, in the main title and in alternate titles in
    parentheses; a trailing "(V)" (video) marker after the year is dropped.
    """
    raw = raw.strip()
    match = _YEAR.match(raw)
    title, year = (match["title"], int(match["year"])) if match else (raw, None)
    parts = _ALTERNATES.match(title)
    if parts is None or not parts["main"].strip():
        return _front_article(title.strip()), year
    alts = re.findall(r"\(([^()]*)\)", parts["alts"])
    text = _front_article(parts["main"].strip())
    for alt in alts:
        text += f" ({_front_article(alt.strip())})"
    return text, year


def _front_article(title: str) -> str:
    match = _ARTICLE.match(title)
    if not match:
        return title
    article = match["article"]
    glue = "" if article.endswith("'") else " "
    return f"{article}{glue}{match['body']}"


# --- ML-100K --------------------------------------------------------------------------------


def _ml100k_genres(path: Path) -> list[str]:
    rows = split_rows(path, "|", ("genre", "index"))
    by_index = {}
    for k, (name, index) in rows:
        by_index[as_int(path, k, "genre index", index)] = name.strip()
    if sorted(by_index) != list(range(len(by_index))):
        raise DataError(str(path), f"genre indices must be 0..{len(by_index) - 1}, got {sorted(by_index)}")
    return [by_index[i] for i in range(len(by_index))]


def _ml100k_items(path: Path, genre_names: list[str]) -> pd.DataFrame:
    names = ("movie id", "title", "release date", "video release date", "IMDb URL", *genre_names)
    records: dict[str, tuple[str, int | None, list[str]]] = {}
    for k, fields in split_rows(path, "|", names):
        raw_id = str(as_int(path, k, "movie id", fields[0]))
        if raw_id in records:
            raise DataError(str(path), f"line {k}: movie id {raw_id} appears twice")
        title, year = parse_movielens_title(fields[1])
        flags = fields[5:]
        if any(f.strip() not in ("0", "1") for f in flags):
            raise DataError(str(path), f"line {k}: genre flags must be 0 or 1, got {'|'.join(flags)}")
        genres = [g for g, f in zip(genre_names, flags) if f.strip() == "1" and g not in _NOT_A_GENRE]
        records[raw_id] = (title, year, genres)
    return _item_frame(records)


def _ml100k_users(path: Path) -> pd.DataFrame:
    records: dict[str, tuple[object, ...]] = {}
    for k, (uid, age, gender, occupation, zip_code) in split_rows(
        path, "|", ("user id", "age", "gender", "occupation", "zip code")
    ):
        raw_id = str(as_int(path, k, "user id", uid))
        records[raw_id] = (
            as_int(path, k, "age", age),
            _GENDERS.get(gender.strip(), gender.strip()),
            occupation.strip(),
            zip_code.strip(),
        )
    frame = pd.DataFrame.from_dict(records, orient="index", columns=["age", "gender", "occupation", "zip"])
    frame["age"] = frame["age"].astype("Int64")
    return frame


def load_ml100k(folder: str | Path, min_rating: float | None = None) -> InteractionData:
    """ML-100K from `folder` (u.data, u.item, u.user, u.genre) as `InteractionData`."""
    folder = Path(folder)
    users, items, ratings, times = read_ratings(folder / "u.data", "\t")
    core = index_interactions(users, items, ratings, times, min_rating=min_rating, source=str(folder / "u.data"))
    item_table = _ml100k_items(folder / "u.item", _ml100k_genres(folder / "u.genre"))
    user_table = _ml100k_users(folder / "u.user")
    return _finish(
        "ml-100k",
        core,
        user_table,
        item_table,
        folder / "u.user",
        folder / "u.item",
        ML100K_USER_TEMPLATE,
        _user_text_values,
    )


def _user_text_values(fields: pd.DataFrame) -> pd.DataFrame:
    text = fields.copy()
    text["occupation"] = text["occupation"].where(~text["occupation"].isin(_VAGUE_OCCUPATIONS), None)
    return text


# --- ML-1M ----------------------------------------------------------------------------------


def read_movies_dat(path: str | Path) -> pd.DataFrame:
    """ML-1M / ML-10M `movies.dat` (MovieID::Title::Genres, latin-1 or UTF-8) as a frame indexed
    by the raw id (str), with columns title (article in front), year (Int64) and genres (list)."""
    path = Path(path)
    rows = split_rows(path, "::", ("MovieID", "Title", "Genres"), encoding="auto")
    return _movie_frame(path, "MovieID", rows)


def read_ml1m_users(path: str | Path) -> pd.DataFrame:
    """ML-1M `users.dat` as a frame indexed by the raw id (str): age (the README's bucket label,
    e.g. "25-34"), gender ("male"/"female"), occupation (the README's word for the code), zip."""
    path = Path(path)
    records: dict[str, tuple[object, ...]] = {}
    for k, (uid, gender, age, occupation, zip_code) in split_rows(
        path, "::", ("UserID", "Gender", "Age", "Occupation", "Zip-code")
    ):
        raw_id = str(as_int(path, k, "UserID", uid))
        age_code = as_int(path, k, "Age", age)
        occ_code = as_int(path, k, "Occupation", occupation)
        if age_code not in ML1M_AGES:
            raise DataError(str(path), f"line {k}: Age code {age_code} is not one of {sorted(ML1M_AGES)}")
        if not 0 <= occ_code < len(ML1M_OCCUPATIONS):
            raise DataError(str(path), f"line {k}: Occupation code {occ_code} is not in 0..{len(ML1M_OCCUPATIONS) - 1}")
        records[raw_id] = (
            ML1M_AGES[age_code],
            _GENDERS.get(gender.strip(), gender.strip()),
            ML1M_OCCUPATIONS[occ_code],
            zip_code.strip(),
        )
    return pd.DataFrame.from_dict(records, orient="index", columns=["age", "gender", "occupation", "zip"])


def load_ml1m(folder: str | Path, min_rating: float | None = None) -> InteractionData:
    """ML-1M from `folder` (ratings.dat, movies.dat, users.dat) as `InteractionData`.

    `user_fields.age` holds the README's bucket label ("25-34"), not the code.
    """
    folder = Path(folder)
    users, items, ratings, times = read_ratings(folder / "ratings.dat", "::")
    core = index_interactions(users, items, ratings, times, min_rating=min_rating, source=str(folder / "ratings.dat"))
    item_table = read_movies_dat(folder / "movies.dat")
    user_table = read_ml1m_users(folder / "users.dat")
    return _finish(
        "ml-1m",
        core,
        user_table,
        item_table,
        folder / "users.dat",
        folder / "movies.dat",
        ML1M_USER_TEMPLATE,
        _user_text_values,
    )


# --- ML-10M and ML-20M ----------------------------------------------------------------------


def load_ml10m(folder: str | Path, min_rating: float | None = None) -> InteractionData:
    """ML-10M from `folder` (ratings.dat, movies.dat; GroupLens' `ml-10M100K/`) as `InteractionData`.

    Ratings are half stars (0.5..5). There is no user metadata: user texts are empty.
    """
    folder = Path(folder)
    users, items, ratings, times = read_ratings(folder / "ratings.dat", "::")
    core = index_interactions(users, items, ratings, times, min_rating=min_rating, source=str(folder / "ratings.dat"))
    item_table = read_movies_dat(folder / "movies.dat")
    return _finish("ml-10m", core, None, item_table, None, folder / "movies.dat", "", _user_text_values)


_ML20M_RATINGS_HEADER = ("userId", "movieId", "rating", "timestamp")
_ML20M_MOVIES_HEADER = ("movieId", "title", "genres")


def read_movies_csv(path: str | Path) -> pd.DataFrame:
    """ML-20M `movies.csv` (movieId,title,genres with a header; quoted titles may hold commas)
    as `read_movies_dat` gives it: indexed by raw id (str), columns title, year, genres."""
    path = Path(path)
    if not path.is_file():
        raise DataError(str(path), "file is missing")
    try:
        frame = pd.read_csv(
            io.StringIO(decode(path.read_bytes())), dtype=str, keep_default_na=False, na_filter=False, engine="c"
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(str(path), f"could not be parsed: {exc}") from None
    if tuple(frame.columns) != _ML20M_MOVIES_HEADER:
        raise DataError(
            str(path),
            f"line 1: expected the header {','.join(_ML20M_MOVIES_HEADER)!r}, "
            f"found {','.join(map(str, frame.columns))[:80]!r}; is this the GroupLens file?",
        )
    # Line numbers assume one line per row (no title in the GroupLens files spans lines).
    return _movie_frame(path, "movieId", enumerate(frame.itertuples(index=False, name=None), start=2))


def load_ml20m(folder: str | Path, min_rating: float | None = None) -> InteractionData:
    """ML-20M from `folder` (ratings.csv, movies.csv) as `InteractionData`.

    Ratings are half stars (0.5..5). There is no user metadata: user texts are empty.
    """
    folder = Path(folder)
    users, items, ratings, times = read_ratings(folder / "ratings.csv", ",", header=_ML20M_RATINGS_HEADER)
    core = index_interactions(users, items, ratings, times, min_rating=min_rating, source=str(folder / "ratings.csv"))
    item_table = read_movies_csv(folder / "movies.csv")
    return _finish("ml-20m", core, None, item_table, None, folder / "movies.csv", "", _user_text_values)


# --- shared ---------------------------------------------------------------------------------


def _movie_frame(path: Path, id_name: str, rows: Iterable[tuple[int, Sequence[str]]]) -> pd.DataFrame:
    """The item frame of (line number, (movie id, "Title (year)", "Genre|Genre")) rows, as the
    ML-1M/10M `movies.dat` and ML-20M `movies.csv` hold them; a repeated id names its line."""
    records: dict[str, tuple[str, int | None, list[str]]] = {}
    for k, (mid, raw_title, genres) in rows:
        raw_id = str(as_int(path, k, id_name, mid))
        if raw_id in records:
            raise DataError(str(path), f"line {k}: {id_name} {raw_id} appears twice")
        title, year = parse_movielens_title(raw_title)
        kept = [g.strip() for g in genres.split("|") if g.strip() and g.strip() not in _NOT_A_GENRE]
        records[raw_id] = (title, year, kept)
    return _item_frame(records)


def _item_frame(records: dict[str, tuple[str, int | None, list[str]]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(records, orient="index", columns=["title", "year", "genres"])
    frame["year"] = frame["year"].astype("Int64")
    return frame


def _aligned(table: pd.DataFrame, ids: np.ndarray, path: Path, what: str) -> pd.DataFrame:
    """`table` rows in index order; DataError if an interacted id has no row."""
    missing = [i for i in ids if i not in table.index]
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise DataError(str(path), f"{len(missing)} {what} with interactions have no row here (ids {shown})")
    return table.loc[list(ids)].reset_index(drop=True)


def _finish(
    name: str,
    core: IndexedInteractions,
    user_table: pd.DataFrame | None,
    item_table: pd.DataFrame,
    user_path: Path | None,
    item_path: Path,
    user_template: str,
    user_text_values: Callable[[pd.DataFrame], pd.DataFrame],
) -> InteractionData:
    """`user_table` None: the dataset has no user metadata; users get no fields and empty texts."""
    item_fields = _aligned(item_table, core.item_ids, item_path, "items")
    notes = []
    tables = [(item_table, core.item_ids, item_path, "items")]
    if user_table is not None and user_path is not None:
        user_fields = _aligned(user_table, core.user_ids, user_path, "users")
        tables.insert(0, (user_table, core.user_ids, user_path, "users"))
        user_text = render_text_table(user_template, user_text_values(user_fields), config_field="user_template")
    else:
        n_users = len(core.user_ids)
        user_fields = pd.DataFrame(index=range(n_users))
        user_text = TextTable(("",) * n_users, ((),) * n_users)
        notes.append(f"{name} has no user metadata: user texts are empty (text models use user IDs only)")
    for table, ids, path, what in tables:
        if len(table) > len(ids):
            notes.append(f"{len(table) - len(ids)} {what} in {path.name} have no interactions and are not indexed")
    item_text = render_text_table(ITEM_TEMPLATE, item_fields, config_field="item_template")
    return assemble(
        name,
        core,
        user_fields=user_fields,
        item_fields=item_fields,
        user_text=user_text,
        item_text=item_text,
        notes=tuple(notes),
    )
