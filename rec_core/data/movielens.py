"""MovieLens ML-100K and ML-1M loaders (GroupLens file formats, latin-1).

ML-100K: `u.data` (tab: user item rating timestamp), `u.item` (pipe: id|title|release|video
release|url|19 genre flags), `u.genre` (name|index), `u.user` (id|age|gender|occupation|zip).
ML-1M: `ratings.dat`, `movies.dat` (id::title::genre|genre), `users.dat`
(id::gender::age code::occupation code::zip), all `::` separated.

Only users and items with an interaction are indexed (see `indexing`), so ML-100K gives
943 users and 1682 items. Every malformed file raises DataError naming the file and line.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from rec_core.data.indexing import IndexedInteractions, assemble, index_interactions
from rec_core.data.interactions import InteractionData
from rec_core.data.text_template import render_text_table
from rec_core.errors import DataError

__all__ = [
    "load_ml100k",
    "load_ml1m",
    "parse_movielens_title",
    "ITEM_TEMPLATE",
    "ML100K_USER_TEMPLATE",
    "ML1M_USER_TEMPLATE",
    "ML1M_AGES",
    "ML1M_OCCUPATIONS",
    "ML100K_FILES",
    "ML1M_FILES",
]

ITEM_TEMPLATE = "{title} ({year}). Genres: {genres}."
ML100K_USER_TEMPLATE = "A {age}-year-old {gender} {occupation}."
ML1M_USER_TEMPLATE = "A {gender} user aged {age}, {occupation}."
ML100K_FILES: tuple[str, ...] = ("u.data", "u.item", "u.user", "u.genre")
ML1M_FILES: tuple[str, ...] = ("ratings.dat", "movies.dat", "users.dat")

# ML-1M README: age is a bucket code, occupation a code 0..20.
ML1M_AGES: dict[int, str] = {
    1: "under 18", 18: "18-24", 25: "25-34", 35: "35-44", 45: "45-49", 50: "50-55", 56: "56+",
}
ML1M_OCCUPATIONS: tuple[str, ...] = (
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student",
    "customer service", "doctor/health care", "executive/managerial", "farmer", "homemaker",
    "K-12 student", "lawyer", "programmer", "retired", "sales/marketing", "scientist",
    "self-employed", "technician/engineer", "tradesman/craftsman", "unemployed", "writer",
)
_GENDERS = {"M": "male", "F": "female"}
# Occupations that read badly in "A 24-year-old male other.": left out of the text only.
_VAGUE_OCCUPATIONS = frozenset({"other", "none"})
# The "unknown" genre flag means "no genre known", not a genre: left out of `genres`.
_NOT_A_GENRE = frozenset({"unknown"})

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


# --- file reading ---------------------------------------------------------------------------


def _read_lines(path: Path) -> list[tuple[int, str]]:
    """Non-blank (line number, line) pairs of a latin-1 file; DataError if it is missing."""
    if not path.is_file():
        raise DataError(str(path), "file is missing")
    # GroupLens files are latin-1 ("Misérables"); latin-1 decodes any byte, so no error here.
    text = path.read_text(encoding="latin-1")
    return [(k, line) for k, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _split_rows(path: Path, sep: str, names: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    """(line number, fields) per row, each with exactly len(names) fields."""
    rows = []
    for k, line in _read_lines(path):
        fields = line.split(sep)
        if len(fields) != len(names):
            raise DataError(
                str(path),
                f"line {k}: expected {len(names)} {sep!r}-separated fields "
                f"({', '.join(names)}), found {len(fields)}; is the file truncated or of another format?",
            )
        rows.append((k, fields))
    return rows


def _as_int(path: Path, k: int, name: str, text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise DataError(str(path), f"line {k}: {name} {text!r} is not an integer") from None


_RATING_NAMES = ("user", "item", "rating", "timestamp")


def _read_ratings(path: Path, sep: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(users, items, ratings, timestamps) arrays of a ratings file; pandas C parser fast path."""
    if not path.is_file():
        raise DataError(str(path), "file is missing")
    if path.stat().st_size == 0:
        raise DataError(str(path), "no interactions: the file is empty")
    # "::" would force pandas' slow python engine; ":" is C-fast, with an empty field between
    # each pair of real ones. No usecols: it would silently ignore extra fields.
    single = sep if len(sep) == 1 else sep[0]
    n_raw = 4 if len(sep) == 1 else 7
    cols = [0, 1, 2, 3] if n_raw == 4 else [0, 2, 4, 6]
    try:
        frame = pd.read_csv(
            path, sep=single, header=None, names=list(range(n_raw)), index_col=False,
            dtype={cols[0]: np.int64, cols[1]: np.int64, cols[2]: np.float64, cols[3]: np.int64},
            engine="c", encoding="latin-1",
        )
    except Exception as exc:  # noqa: BLE001 - any parser failure is diagnosed line by line below
        _diagnose_ratings(path, sep)
        raise DataError(str(path), f"could not be parsed: {exc}") from None
    if n_raw == 7 and not frame[[1, 3, 5]].isna().all().all():
        _diagnose_ratings(path, sep)  # something sat between the two colons of a "::"
    if len(frame) == 0:
        raise DataError(str(path), "no interactions: the file has no rows")
    arrays = [frame[c].to_numpy() for c in cols]
    return arrays[0], arrays[1], arrays[2], arrays[3]


def _diagnose_ratings(path: Path, sep: str) -> None:
    """Raise DataError at the first malformed line of a ratings file (slow; errors only)."""
    for k, fields in _split_rows(path, sep, _RATING_NAMES):
        for name, text in zip(_RATING_NAMES, fields):
            if name == "rating":
                try:
                    float(text)
                except ValueError:
                    raise DataError(str(path), f"line {k}: rating {text!r} is not a number") from None
            else:
                _as_int(path, k, name if name == "timestamp" else f"{name} id", text)
    if not _read_lines(path):
        raise DataError(str(path), "no interactions: the file has no rows")


# --- ML-100K --------------------------------------------------------------------------------


def _ml100k_genres(path: Path) -> list[str]:
    rows = _split_rows(path, "|", ("genre", "index"))
    by_index = {}
    for k, (name, index) in rows:
        by_index[_as_int(path, k, "genre index", index)] = name.strip()
    if sorted(by_index) != list(range(len(by_index))):
        raise DataError(str(path), f"genre indices must be 0..{len(by_index) - 1}, got {sorted(by_index)}")
    return [by_index[i] for i in range(len(by_index))]


def _ml100k_items(path: Path, genre_names: list[str]) -> pd.DataFrame:
    names = ("movie id", "title", "release date", "video release date", "IMDb URL", *genre_names)
    records: dict[str, tuple[str, int | None, list[str]]] = {}
    for k, fields in _split_rows(path, "|", names):
        raw_id = str(_as_int(path, k, "movie id", fields[0]))
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
    for k, (uid, age, gender, occupation, zip_code) in _split_rows(
        path, "|", ("user id", "age", "gender", "occupation", "zip code")
    ):
        raw_id = str(_as_int(path, k, "user id", uid))
        records[raw_id] = (
            _as_int(path, k, "age", age),
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
    users, items, ratings, times = _read_ratings(folder / "u.data", "\t")
    core = index_interactions(users, items, ratings, times, min_rating=min_rating, source=str(folder / "u.data"))
    item_table = _ml100k_items(folder / "u.item", _ml100k_genres(folder / "u.genre"))
    user_table = _ml100k_users(folder / "u.user")
    return _finish("ml-100k", core, user_table, item_table, folder / "u.user", folder / "u.item",
                   ML100K_USER_TEMPLATE, _user_text_values)


def _user_text_values(fields: pd.DataFrame) -> pd.DataFrame:
    text = fields.copy()
    text["occupation"] = text["occupation"].where(~text["occupation"].isin(_VAGUE_OCCUPATIONS), None)
    return text


# --- ML-1M ----------------------------------------------------------------------------------


def _ml1m_items(path: Path) -> pd.DataFrame:
    records: dict[str, tuple[str, int | None, list[str]]] = {}
    for k, (mid, raw_title, genres) in _split_rows(path, "::", ("MovieID", "Title", "Genres")):
        raw_id = str(_as_int(path, k, "MovieID", mid))
        if raw_id in records:
            raise DataError(str(path), f"line {k}: MovieID {raw_id} appears twice")
        title, year = parse_movielens_title(raw_title)
        kept = [g.strip() for g in genres.split("|") if g.strip() and g.strip() not in _NOT_A_GENRE]
        records[raw_id] = (title, year, kept)
    return _item_frame(records)


def _ml1m_users(path: Path) -> pd.DataFrame:
    records: dict[str, tuple[object, ...]] = {}
    for k, (uid, gender, age, occupation, zip_code) in _split_rows(
        path, "::", ("UserID", "Gender", "Age", "Occupation", "Zip-code")
    ):
        raw_id = str(_as_int(path, k, "UserID", uid))
        age_code = _as_int(path, k, "Age", age)
        occ_code = _as_int(path, k, "Occupation", occupation)
        if age_code not in ML1M_AGES:
            raise DataError(str(path), f"line {k}: Age code {age_code} is not one of {sorted(ML1M_AGES)}")
        if not 0 <= occ_code < len(ML1M_OCCUPATIONS):
            raise DataError(str(path), f"line {k}: Occupation code {occ_code} is not in 0..{len(ML1M_OCCUPATIONS) - 1}")
        records[raw_id] = (
            ML1M_AGES[age_code], _GENDERS.get(gender.strip(), gender.strip()),
            ML1M_OCCUPATIONS[occ_code], zip_code.strip(),
        )
    return pd.DataFrame.from_dict(records, orient="index", columns=["age", "gender", "occupation", "zip"])


def load_ml1m(folder: str | Path, min_rating: float | None = None) -> InteractionData:
    """ML-1M from `folder` (ratings.dat, movies.dat, users.dat) as `InteractionData`.

    `user_fields.age` holds the README's bucket label ("25-34"), not the code.
    """
    folder = Path(folder)
    users, items, ratings, times = _read_ratings(folder / "ratings.dat", "::")
    core = index_interactions(users, items, ratings, times, min_rating=min_rating, source=str(folder / "ratings.dat"))
    item_table = _ml1m_items(folder / "movies.dat")
    user_table = _ml1m_users(folder / "users.dat")
    return _finish("ml-1m", core, user_table, item_table, folder / "users.dat", folder / "movies.dat",
                   ML1M_USER_TEMPLATE, _user_text_values)


# --- shared ---------------------------------------------------------------------------------


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
    user_table: pd.DataFrame,
    item_table: pd.DataFrame,
    user_path: Path,
    item_path: Path,
    user_template: str,
    user_text_values: Callable[[pd.DataFrame], pd.DataFrame],
) -> InteractionData:
    user_fields = _aligned(user_table, core.user_ids, user_path, "users")
    item_fields = _aligned(item_table, core.item_ids, item_path, "items")
    notes = []
    for table, ids, path, what in ((user_table, core.user_ids, user_path, "users"),
                                   (item_table, core.item_ids, item_path, "items")):
        if len(table) > len(ids):
            notes.append(f"{len(table) - len(ids)} {what} in {path.name} have no interactions and are not indexed")
    user_text = render_text_table(user_template, user_text_values(user_fields), config_field="user_template")
    item_text = render_text_table(ITEM_TEMPLATE, item_fields, config_field="item_template")
    return assemble(name, core, user_fields=user_fields, item_fields=item_fields,
                    user_text=user_text, item_text=item_text, notes=tuple(notes))
