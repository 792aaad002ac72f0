"""Tiny MovieLens-format datasets, written at test time with invented records.

MovieLens may not be redistributed, so no file of it is committed: these are made-up movies
and users in the original formats (tab / pipe / `::` separated, latin-1; ML-20M's CSV with
headers, UTF-8), covering the cases the loaders must handle: a trailing article ("Quiet
Harbour, The"), an accented title with a French article, a title with a trailing space, the
"unknown" and "(no genres listed)" genres, a duplicate rating pair, an item and a user that are
never rated, occupation "other"/"none", an ML-1M zip with a leading zero, half-star ratings
(ML-10M, ML-20M), and quoted ML-20M titles holding commas and quotes.
"""

from __future__ import annotations

from pathlib import Path

GENRES = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
]


def _flags(*names: str) -> str:
    return "|".join("1" if g in names else "0" for g in GENRES)


ML100K_ITEMS = [
    (1, "Paper Kites (1995)", "01-Jan-1995", ("Animation", "Children's", "Comedy")),
    (2, "Quiet Harbour, The (1995)", "14-Aug-1995", ("Crime", "Thriller")),
    (3, "Mémoires, Les (1995)", "01-Jan-1995", ("Drama", "Musical")),
    (4, "unknown", "", ("unknown",)),
    (5, "Lena Marsh: Night Editor (1995) ", "09-Feb-1996", ("Documentary",)),
    (6, "Never Rated (1999)", "01-Jan-1999", ("Drama",)),
]
ML100K_USERS = [
    "1|31|M|engineer|10001",
    "2|47|F|other|20002",
    "3|29|M|writer|30003",
    "10|36|F|none|40004",
    "11|40|M|lawyer|T8H1N",
]
# (user, item, rating, time); (1, 1) appears twice: the later row (rating 5) must win.
ML100K_RATINGS = [
    (1, 1, 5, 881250949),
    (1, 2, 3, 881250950),
    (1, 3, 4, 881250951),
    (2, 1, 4, 881250960),
    (2, 4, 2, 881250961),
    (3, 5, 1, 881250970),
    (3, 2, 5, 881250971),
    (10, 1, 3, 881250980),
    (10, 3, 5, 881250981),
    (1, 1, 2, 881250900),
    (2, 5, 4, 881250990),
]

ML1M_MOVIES = [
    "1::Paper Kites (1995)::Animation|Children's|Comedy",
    "2::Mémoires, Les (1995)::Drama|Musical",
    "3::City of Paper Lanterns, The (Cité des lanternes, La) (1995)::Adventure|Sci-Fi",
    "5::Unrated Movie (2000)::Drama",
]
ML1M_USERS = ["1::F::1::10::11111", "2::M::56::16::22222", "3::M::25::12::33333", "4::F::45::0::02460"]
ML1M_RATINGS = [
    "1::1::5::978300760",
    "1::2::3::978302109",
    "2::3::4::978301968",
    "3::1::4::978300275",
    "3::3::2::978824291",
    "4::2::5::978300000",
]


# ML-10M (`ml-10M100K/`): movies.dat as ML-1M but UTF-8 here (the loader takes latin-1 too),
# half-star ratings, tags.dat present but unused. (2, 1) appears twice: the later 4.5 must win.
ML10M_MOVIES = [
    "1::Paper Kites (1995)::Animation|Children's|Comedy",
    "2::Mémoires, Les (1995)::Drama|Musical",
    "3::Quiet Harbour, The (1995)::Crime|Thriller",
    "4::Pull My Kite (1958)::(no genres listed)",
    "5::Never Rated (1999)::Drama",
]
# (user, item, rating, time)
ML10M_RATINGS = [
    (1, 1, "5", 838985046),
    (1, 2, "3.5", 838983525),
    (1, 3, "0.5", 838983392),
    (2, 1, "4.5", 868245777),
    (2, 4, "2", 868245920),
    (10, 3, "4", 1111111111),
    (10, 2, "1.5", 1111111112),
    (71567, 1, "3", 912580553),
    (2, 1, "4", 868245700),
]
ML10M_TAGS = ["1::3::dark harbour::1188263867", "10::2::memories::1188263900"]

# ML-20M: CSV with headers, UTF-8; titles with commas (and quotes) are quoted. (1, 2) appears
# twice: the later 4.0 must win.
ML20M_MOVIES = [
    "movieId,title,genres",
    "1,Paper Kites (1995),Animation|Children|Comedy",
    '2,"Quiet Harbour, The (1995)",Crime|Thriller',
    '3,"Mémoires, Les (1995)",Drama|Musical',
    '4,"Night, Day, and Night Again (2001)",Drama',
    "5,Pull My Kite (1958),(no genres listed)",
    '6,"""Great"" Escape, The (1963)",Action|War',
    "7,Never Rated (2015),Comedy",
    "131262,Innocence (2014),Adventure|Fantasy|Horror",
]
ML20M_RATINGS = [
    (1, 1, "3.5", 1112486027),
    (1, 2, "4.0", 1112484676),
    (1, 3, "0.5", 1112484819),
    (2, 4, "5.0", 974820889),
    (2, 6, "2.5", 974820691),
    (3, 5, "4.5", 1379438734),
    (3, 131262, "3.0", 1427745466),
    (138493, 1, "4.0", 1258126944),
    (1, 2, "1.0", 1112484000),
]


def _write(path: Path, lines: list[str], encoding: str = "latin-1") -> None:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))


def write_ml10m(folder: Path, movies_encoding: str = "utf-8") -> Path:
    """An ML-10M-format folder (ratings.dat, movies.dat, tags.dat) at `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "movies.dat", ML10M_MOVIES, movies_encoding)
    _write(folder / "ratings.dat", [f"{u}::{i}::{r}::{t}" for u, i, r, t in ML10M_RATINGS])
    _write(folder / "tags.dat", ML10M_TAGS)
    return folder


def write_ml20m(folder: Path) -> Path:
    """An ML-20M-format folder (ratings.csv, movies.csv with headers) at `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "movies.csv", ML20M_MOVIES, "utf-8")
    _write(
        folder / "ratings.csv",
        ["userId,movieId,rating,timestamp"] + [f"{u},{i},{r},{t}" for u, i, r, t in ML20M_RATINGS],
        "utf-8",
    )
    return folder


def write_tiny_movielens(root: Path) -> None:
    """Create `root/ml-100k-tiny/`, `ml-1m-tiny/`, `ml-10m-tiny/` and `ml-20m-tiny/` in the original formats."""
    ml100k = root / "ml-100k-tiny"
    ml100k.mkdir(parents=True, exist_ok=True)
    _write(ml100k / "u.genre", [f"{g}|{i}" for i, g in enumerate(GENRES)] + [""])
    _write(
        ml100k / "u.item",
        [
            f"{i}|{title}|{date}||http://example.org/movie/{i}|{_flags(*genres)}"
            for i, title, date, genres in ML100K_ITEMS
        ],
    )
    _write(ml100k / "u.user", ML100K_USERS)
    _write(ml100k / "u.data", [f"{u}\t{i}\t{r}\t{t}" for u, i, r, t in ML100K_RATINGS])
    ml1m = root / "ml-1m-tiny"
    ml1m.mkdir(parents=True, exist_ok=True)
    _write(ml1m / "movies.dat", ML1M_MOVIES)
    _write(ml1m / "users.dat", ML1M_USERS)
    _write(ml1m / "ratings.dat", ML1M_RATINGS)
    write_ml10m(root / "ml-10m-tiny")
    write_ml20m(root / "ml-20m-tiny")
