"""rec_core.analysis.projection: exact cosine neighbours, agreement, UMAP layouts, colour attributes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rec_core.analysis import (
    UmapParams,
    colourings,
    cosine_knn,
    embeddings,
    entity_attributes,
    load_model,
    neighbour_overlap,
    neighbourhood_agreement,
    open_run,
    project,
    projection_warm,
    run_config,
    view_agreement,
)
from rec_app.figures import category_colours, projection_figure
from rec_core.errors import ConfigError, RecCoreError
from rec_core.experiment import prepare_data
from rec_app.figures import Style
from rec_core.runs import RunStore


def _brute_knn(x: np.ndarray, k: int) -> np.ndarray:
    z = x / np.linalg.norm(x, axis=1, keepdims=True)
    sim = z @ z.T
    np.fill_diagonal(sim, -np.inf)
    return np.array([sorted(range(len(x)), key=lambda j: (-sim[i, j], j))[:k] for i in range(len(x))])


def test_cosine_knn_is_exact_and_breaks_ties_by_index() -> None:
    x = np.random.default_rng(1).normal(size=(40, 6)).astype(np.float32)
    idx, dist = cosine_knn(x, 5)
    assert (idx == _brute_knn(x, 5)).all() and (np.diff(dist, axis=1) >= -1e-6).all()
    dup = np.vstack([np.ones((4, 3)), np.random.default_rng(2).normal(size=(6, 3))]).astype(np.float32)
    idx, dist = cosine_knn(dup, 3)
    assert idx[0].tolist() == [1, 2, 3] and np.allclose(dist[0], 0, atol=1e-6)  # identical vectors: by index
    with_self, d_self = cosine_knn(dup, 3, include_self=True)
    assert (with_self[:, 0] == np.arange(len(dup))).all() and (d_self[:, 0] == 0).all()
    with pytest.raises(ConfigError):
        cosine_knn(dup, 10)


def test_agreement_is_one_for_the_same_view_and_near_chance_for_unrelated_views() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 8))
    assert neighbour_overlap(a, 3 * a, 10).tolist() == [1.0] * 300  # cosine ignores scale
    agr = neighbourhood_agreement(a, rng.normal(size=(300, 8)), 10)
    assert agr.k == 10 and agr.n == 300 and agr.chance == pytest.approx(10 / 299)
    assert abs(agr.mean - agr.chance) < 0.03
    b = a.copy()
    b[:, 0] += rng.normal(scale=0.3, size=300)  # a perturbed copy agrees partly
    assert agr.mean < neighbourhood_agreement(a, b).mean < 1.0
    with pytest.raises(RecCoreError, match="too few"):
        neighbourhood_agreement(a[:3], a[:3])


def test_umap_params_are_checked() -> None:
    assert UmapParams() == UmapParams(15, 0.1, 0)
    for bad in ({"n_neighbors": 1}, {"min_dist": 1.5}, {"seed": -1}):
        with pytest.raises(ConfigError):
            UmapParams(**bad)


@pytest.mark.slow  # > 10 s on a 2-core machine: CI runs it, a plain local run leaves it out
def test_projection_is_finite_deterministic_and_tolerates_duplicates() -> None:
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 12)) * 4
    x = np.vstack([c + rng.normal(size=(40, 12)) for c in centers] + [np.ones((15, 12))]).astype(np.float32)
    one = project(x, UmapParams(n_neighbors=10, seed=3))
    assert one.shape == (135, 2) and one.dtype == np.float32 and np.isfinite(one).all()
    assert projection_warm()
    assert np.array_equal(one, project(x, UmapParams(n_neighbors=10, seed=3)))
    assert (one[-15:] == one[-1]).all()  # identical embeddings share one point
    tiny = project(x[:8], UmapParams(n_neighbors=30))  # neighbours capped at n - 1
    assert tiny.shape == (8, 2)
    with pytest.raises(RecCoreError, match="too few"):
        project(x[:3])


def test_run_embeddings_views_attributes_and_figure(analysis_runs: Path) -> None:
    store = RunStore(analysis_runs)
    run = open_run(store, "attn-c01")
    data, split = prepare_data(run_config(run))
    model = load_model(run, data)
    for view in ("id", "text", "fused"):
        for side, n in (("item", data.n_items), ("user", data.n_users)):
            assert embeddings(model, side, view).shape == (n, 16)
    agr = view_agreement(model, "item")
    assert agr is not None and 0.0 <= agr.mean <= 1.0 and agr.k == 10
    mf_run = open_run(store, "mf")
    mf = load_model(mf_run, data)
    assert view_agreement(mf, "item") is None
    with pytest.raises(ConfigError, match="views id"):
        embeddings(mf, "item", "text")
    items = entity_attributes(data, split, "item")
    assert colourings(items, "item") == ["genre", "year", "popularity", "warmth"] and len(items) == data.n_items
    assert items["popularity"].sum() == len(split.train) and set(items["warmth"]) <= {"cold", "warm"}
    users = entity_attributes(data, split, "user")
    assert colourings(users, "user") == ["age", "gender", "occupation", "activity", "warmth"]
    assert users["label"].iat[0] == data.user_text.texts[0]
    xy = project(embeddings(model, "item", "fused"))
    xy2 = project(embeddings(model, "item", "id"))
    fig = projection_figure([("A", xy), ("B", xy2)], items, "genre", Style("en"), "t")
    by_panel: dict[str, dict[str, str]] = {"x": {}, "x2": {}}
    for tr in fig.data:
        by_panel[tr.xaxis][tr.name] = tr.marker.color
    assert by_panel["x"] == by_panel["x2"]  # identical colouring in both panels
    assert sum(len(tr.x) for tr in fig.data if tr.xaxis == "x") == data.n_items
    assert "%{customdata[0]}" in fig.data[0].hovertemplate  # hover shows the title
    cont = projection_figure([("A", xy)], items, "popularity", Style("en"), "t")
    assert cont.layout.coloraxis.colorbar.ticktext[0] == "0" and cont.data[0].marker.coloraxis == "coloraxis"


def test_category_colours_are_stable_and_grey_out_the_long_tail() -> None:
    values = pd.Series([f"c{i}" for i in range(30) for _ in range(30 - i)])
    colours = category_colours(values)
    assert colours == category_colours(values.sample(frac=1.0, random_state=0))
    assert list(colours)[0] == "c0" and len(set(colours.values())) == 18  # 17 colours + the grey "other"
