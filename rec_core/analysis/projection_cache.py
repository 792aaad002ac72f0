"""UMAP layouts kept on disk, so a run's projection is computed once and then read.

The first projection of a run costs tens of seconds on a small CPU (numba compiles UMAP's
layout code, then the layout itself); the app computes the Embeddings page's default views in
the background when it sees a run finished (`precompute_projections`), and every later visit,
in any server process, reads the file. An entry is keyed by the run folder, its results.json
stamp (a re-executed run gets new entries), the side, the view and the UMAP settings. Files are
written whole (temporary file, then rename), so a reader never sees half a layout.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from rec_core.runs.atomic import atomic_path

from rec_core.analysis.projection import UmapParams, embeddings, project, projection_warm, warm_up

__all__ = [
    "projection_cache_root",
    "projection_key",
    "load_projection",
    "save_projection",
    "precompute_projections",
    "precompute_run",
]


def projection_cache_root() -> Path:
    """`$REC_CORE_CACHE/projections`, else `projections` in the user cache dir (beside the text features)."""
    from rec_core.text.cache import default_cache_root

    return default_cache_root().parent / "projections"


def projection_key(run_dir: str | Path, stamp: float, side: str, view: str, params: UmapParams) -> str:
    """The entry name of one layout (see the module docstring)."""
    parts: list[Any] = [str(Path(run_dir).resolve()), float(stamp), side, view, params.n_neighbors, params.min_dist]
    parts.append(params.seed)
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def load_projection(key: str, root: Path | None = None) -> np.ndarray | None:
    """The stored (n, 2) layout, or None (never computed, or unreadable: then it is computed again)."""
    path = (root or projection_cache_root()) / f"{key}.npy"
    try:
        coords = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return coords if coords.ndim == 2 and coords.shape[1] == 2 and np.isfinite(coords).all() else None


def save_projection(key: str, coords: np.ndarray, root: Path | None = None) -> None:
    """Store a layout (best effort: a read-only or full disk only costs the next visit a recompute)."""
    folder = root or projection_cache_root()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(folder / f"{key}.npy") as tmp, open(tmp, "wb") as f:
            np.save(f, np.asarray(coords, dtype=np.float32), allow_pickle=False)
    except OSError:
        pass  # atomic_path removed its temporary file; the next visit recomputes


def precompute_projections(
    run_dir: str | Path, stamp: float, model: Any, sides: tuple[str, ...] = ("item",), root: Path | None = None
) -> int:
    """Compute and store the default layouts (UmapParams()) of `model`'s views for `sides` that
    are not stored yet; returns how many were computed. Compiles UMAP first when needed."""
    if not projection_warm():
        warm_up()
    done = 0
    for side in sides:
        for view in tuple(getattr(model, "views", ())):
            key = projection_key(run_dir, stamp, side, view, UmapParams())
            if load_projection(key, root) is not None:
                continue
            try:
                x = embeddings(model, side, view)  # type: ignore[arg-type]  # "item" / "user"
            except Exception:  # noqa: BLE001 - a view this model cannot give (no user texts): skipped
                continue
            save_projection(key, project(x, UmapParams()), root)
            done += 1
    return done


def precompute_run(run_dir: str | Path, stamp: float) -> int:
    """`precompute_projections` for the finished run in `run_dir` (loads its data and model)."""
    from rec_core.analysis.loading import load_model, open_run, run_config
    from rec_core.data import load_dataset
    from rec_core.runs import RunStore

    folder = Path(run_dir)
    run = open_run(RunStore(folder.parent), folder.name)
    model = load_model(run, load_dataset(run_config(run).data))
    return precompute_projections(folder, stamp, model)
