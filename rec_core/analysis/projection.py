"""2-D UMAP projections of a run's embeddings, and how much two views agree on neighbours.

`project(x, params)` lays out (n, d) embeddings in 2-D with umap-learn. The k nearest
neighbours are computed here, exactly and by cosine (a matrix product: well under a second
for MovieLens), and handed to UMAP as `precomputed_knn`: that skips UMAP's approximate
search, whose numba compilation dominated the first projection, and makes the neighbours the
same ones `neighbourhood_agreement` counts. The first projection in a process still compiles
UMAP's layout code (numba, tens of seconds on a small CPU); `projection_warm()` says
whether that has happened, so a page can tell the user why the first one is slow.

`neighbourhood_agreement(a, b, k)` is the mean share of each entity's k nearest neighbours
(cosine, itself excluded) in view `a` that are also among its k nearest in view `b`: 1 when
the two views see the same neighbourhoods, about k / (n - 1) by chance.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rec_core.analysis.entities import Side, check_side, entity_labels, train_counts
from rec_core.data.interactions import InteractionData
from rec_core.errors import ConfigError, RecCoreError
from rec_core.split import Split

__all__ = [
    "UmapParams",
    "Agreement",
    "COLOURINGS",
    "CONTINUOUS",
    "embeddings",
    "cosine_knn",
    "project",
    "projection_warm",
    "warm_up",
    "neighbour_overlap",
    "neighbourhood_agreement",
    "entity_attributes",
    "colourings",
    "MIN_ENTITIES",
    "log_scale",
    "nice_log_ticks",
    "view_agreement",
]

MIN_ENTITIES = 5  # fewer points than this make no neighbourhood graph worth drawing
# Colour attributes per side, in the order a page offers them.
COLOURINGS: dict[str, tuple[str, ...]] = {
    "item": ("genre", "year", "popularity", "warmth"),
    "user": ("age", "gender", "occupation", "activity", "warmth"),
}
CONTINUOUS = frozenset({"year", "popularity", "age", "activity"})  # drawn with a colour scale
_CHUNK = 2048  # rows of the similarity matrix held at once: 2048 x n floats

_warm = threading.Event()


@dataclass(frozen=True)
class UmapParams:
    """UMAP settings a page lets people edit (hashable: a cache key as it is)."""

    n_neighbors: int = 15  # neighbourhood size: small keeps local detail, large shows global shape
    min_dist: float = 0.1  # how tightly points may pack in the layout (0: clumps, 1: even spread)
    seed: int = 0  # layout seed: the same seed and embeddings give the same picture

    def __post_init__(self) -> None:
        if isinstance(self.n_neighbors, bool) or not 2 <= int(self.n_neighbors) <= 200:
            raise ConfigError("n_neighbors", f"must be an integer in [2, 200], got {self.n_neighbors!r}")
        if not (isinstance(self.min_dist, (int, float)) and 0.0 <= float(self.min_dist) <= 1.0):
            raise ConfigError("min_dist", f"must be in [0, 1], got {self.min_dist!r}")
        if isinstance(self.seed, bool) or int(self.seed) < 0:
            raise ConfigError("seed", f"must be an integer >= 0, got {self.seed!r}")
        object.__setattr__(self, "n_neighbors", int(self.n_neighbors))
        object.__setattr__(self, "min_dist", float(self.min_dist))
        object.__setattr__(self, "seed", int(self.seed))


@dataclass(frozen=True)
class Agreement:
    """Neighbourhood agreement of two views (module docstring) with its chance level."""

    mean: float  # mean overlap share in [0, 1]
    chance: float  # k / (n - 1): the expected overlap of two unrelated views
    k: int
    n: int


def embeddings(model: Any, side: Side, view: str) -> np.ndarray:
    """(n, d) float32 embeddings of every user or item of `model` in `view` (id, text, fused)."""
    check_side(side)
    views = tuple(getattr(model, "views", ()))
    if view not in views:
        raise ConfigError(
            "view", f"the {getattr(model, 'name', '?')} model has the views {', '.join(views)}; not {view!r}"
        )
    table = model.item_embeddings(view) if side == "item" else model.user_embeddings(view)
    x = table.detach().float().cpu().numpy() if hasattr(table, "detach") else np.asarray(table, dtype=np.float32)
    if x.ndim != 2 or not np.isfinite(x).all():
        raise RecCoreError(f"the {view} {side} embeddings are not a finite (n, d) table; the model may have diverged")
    return np.ascontiguousarray(x, dtype=np.float32)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)  # a zero vector stays zero: similarity 0 to all


def cosine_knn(x: np.ndarray, k: int, include_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours by cosine: indices (n, k) int64 and distances 1 - cos (n, k).

    Ties are broken by index, so duplicated vectors (unseen ids share one neutral vector)
    give a deterministic answer. With `include_self` the entity itself comes first at
    distance 0, as UMAP's own search returns it.
    """
    n = len(x)
    if not 1 <= k <= n - (0 if include_self else 1):
        raise ConfigError("k", f"must be in [1, {n - 1}] for {n} entities, got {k}")
    z = _unit_rows(np.asarray(x, dtype=np.float32))
    idx = np.empty((n, k), dtype=np.int64)
    dist = np.empty((n, k), dtype=np.float32)
    for a in range(0, n, _CHUNK):
        b = min(n, a + _CHUNK)
        sim = z[a:b] @ z.T  # (chunk, n)
        rows = np.arange(b - a)
        sim[rows, a + rows] = np.inf if include_self else -np.inf
        order = np.argsort(-sim, axis=1, kind="stable")[:, :k]  # stable: equal similarity -> lower index
        idx[a:b] = order
        top = np.take_along_axis(sim, order, axis=1)
        if include_self:
            top[:, 0] = 1.0
        dist[a:b] = np.clip(1.0 - top, 0.0, 2.0)
    return idx, dist


def neighbour_overlap(a: np.ndarray, b: np.ndarray, k: int = 10) -> np.ndarray:
    """(n,) share of each entity's k nearest neighbours in `a` also among its k nearest in `b`."""
    if len(a) != len(b):
        raise ConfigError("views", f"both views must embed the same entities: {len(a)} vs {len(b)} rows")
    k = min(k, len(a) - 1)
    na, _ = cosine_knn(a, k)
    nb, _ = cosine_knn(b, k)
    # Entity i's two neighbour lists share a row; count matches with a sort, not a Python loop.
    both = np.sort(np.concatenate([na, nb], axis=1), axis=1)
    shared = (both[:, 1:] == both[:, :-1]).sum(axis=1)
    return shared / k


def neighbourhood_agreement(a: np.ndarray, b: np.ndarray, k: int = 10) -> Agreement:
    """Mean neighbour overlap of views `a` and `b` (module docstring) and its chance level."""
    n = len(a)
    if n < MIN_ENTITIES:
        raise RecCoreError(f"{n} entities are too few to compare neighbourhoods (at least {MIN_ENTITIES})")
    k = min(k, n - 1)
    return Agreement(mean=float(neighbour_overlap(a, b, k).mean()), chance=k / (n - 1), k=k, n=n)


def view_agreement(model: Any, side: Side, k: int = 10, views: tuple[str, str] = ("id", "text")) -> Agreement | None:
    """Neighbourhood agreement between two views of `model` (default: ID and text); None when
    the model lacks one of them (ID-only models, users without profile text)."""
    if not set(views) <= set(getattr(model, "views", ())):
        return None
    try:
        a, b = embeddings(model, side, views[0]), embeddings(model, side, views[1])
    except ConfigError:  # e.g. a model whose users have no text view
        return None
    return neighbourhood_agreement(a, b, k)


def projection_warm() -> bool:
    """Whether UMAP has already compiled in this process (later projections take seconds)."""
    return _warm.is_set()


def project(x: np.ndarray, params: UmapParams = UmapParams()) -> np.ndarray:
    """(n, 2) float32 UMAP layout of the rows of `x` (cosine neighbourhoods, see module docstring).

    Identical rows (every unseen id shares the neutral ID vector) are laid out once and share
    their point: a block of exact duplicates makes UMAP's spectral start non-deterministic.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or not np.isfinite(x).all():
        raise RecCoreError("a projection needs a finite (n, d) table of embeddings")
    _, first, inverse = np.unique(x, axis=0, return_index=True, return_inverse=True)
    keep = np.sort(first)  # one row per distinct vector, in input order
    if len(keep) < MIN_ENTITIES:
        raise RecCoreError(f"{len(keep)} distinct embeddings are too few for a projection (at least {MIN_ENTITIES})")
    import umap  # heavy (numba): imported on first use only

    unique = x[keep]
    k = min(params.n_neighbors, len(unique) - 1)
    idx, dist = cosine_knn(unique, k, include_self=True)
    reducer = umap.UMAP(
        n_neighbors=k,
        min_dist=params.min_dist,
        random_state=params.seed,
        metric="cosine",
        n_components=2,
        precomputed_knn=(idx, dist, None),
        low_memory=False,
    )
    with warnings.catch_warnings():
        # UMAP warns that a seed disables parallelism and that precomputed neighbours cannot
        # transform new points; both are what we want here.
        warnings.simplefilter("ignore")
        coords = np.asarray(reducer.fit_transform(unique), dtype=np.float32)
    _warm.set()
    if coords.shape != (len(unique), 2) or not np.isfinite(coords).all():
        raise RecCoreError("UMAP returned a non-finite layout; try another seed or more neighbours")
    slot = np.empty(len(first), dtype=np.int64)
    slot[np.argsort(first)] = np.arange(len(first))  # unique-row id -> its row in `unique`
    return coords[slot[inverse.reshape(-1)]]


def warm_up() -> float:
    """Compile UMAP on a small random table; returns the seconds it took."""
    t = time.perf_counter()
    project(np.random.default_rng(0).normal(size=(64, 8)).astype(np.float32), UmapParams(n_neighbors=5))
    return time.perf_counter() - t


def _first_genre(value: object) -> str | None:
    if isinstance(value, (list, tuple, np.ndarray)):
        return str(value[0]) if len(value) else None
    if isinstance(value, str) and value.strip():
        return value.split("|")[0].split(",")[0].strip() or None
    return None


def _number(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").astype("float64")


def entity_attributes(data: InteractionData, split: Split, side: Side) -> pd.DataFrame:
    """One row per entity index: `id`, `label` (hover text) and every colour attribute the
    data has (COLOURINGS): genre (the first one), year, popularity (training count), warmth
    (cold: no training interaction), age, gender, occupation, activity (training count).
    Missing values are NaN / None."""
    check_side(side)
    counts = train_counts(data, split, side)
    ids = data.item_ids if side == "item" else data.user_ids
    out = pd.DataFrame({"id": ids.astype(str), "label": entity_labels(data, side)})
    fields = data.item_fields if side == "item" else data.user_fields
    if side == "item":
        if "genres" in fields.columns:
            out["genre"] = [_first_genre(v) for v in fields["genres"]]
        if "year" in fields.columns:
            out["year"] = _number(fields["year"]).to_numpy()
        out["popularity"] = counts.astype("float64")
    else:
        if "age" in fields.columns:
            out["age"] = _number(fields["age"]).to_numpy()
        for name in ("gender", "occupation"):
            if name in fields.columns:
                out[name] = [None if pd.isna(v) or not str(v).strip() else str(v) for v in fields[name]]
        out["activity"] = counts.astype("float64")
    out["warmth"] = np.where(counts > 0, "warm", "cold")
    return out


def colourings(attributes: pd.DataFrame, side: Side) -> list[str]:
    """The colour attributes of `side` that `attributes` holds with at least one value."""
    return [c for c in COLOURINGS[check_side(side)] if c in attributes.columns and attributes[c].notna().any()]


def log_scale(values: pd.Series | np.ndarray) -> np.ndarray:
    """log10(1 + count): popularity and activity span orders of magnitude."""
    return np.log10(1.0 + np.asarray(values, dtype="float64"))


def nice_log_ticks(max_count: float) -> list[int]:
    """Counts for the ticks of a log10(1 + count) colour scale up to `max_count`."""
    top = max(1.0, float(max_count) if math.isfinite(max_count) else 1.0)
    return [0] + [10**e for e in range(0, int(math.log10(top)) + 1)]
