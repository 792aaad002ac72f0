"""Streamlit glue shared by the analysis pages (Attention, Embeddings, Error analysis).

Cached loading (a model per run, keyed by run id and its results' modification time; the
dataset and split per config; projections and top-10 lists as data), the sidebar (language,
presentation mode and image format shared with the Compare page), run pickers, and the
download row every figure and table gets. The analysis itself lives in `rec_core.analysis`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from rec_app.ui import page_frame
from rec_app.ui import resources
from rec_app.ui.charts import show_figure
from rec_app.analysis.tables import export_columns
from rec_app.figures import Style, export_images
from rec_app.i18n import t
from rec_app.runs.model_names import model_display_name
from rec_app.runs.table import RunRow

__all__ = [
    "PRESENTATION_KEY",
    "Loaded",
    "sidebar",
    "finished_rows",
    "run_picker",
    "load",
    "projection",
    "projection_stored",
    "agreement",
    "attributes",
    "top_lists",
    "show",
    "csv_download",
    "query_value",
    "entity_picker",
    "ranks",
]

PRESENTATION_KEY = page_frame.PRESENTATION_KEY  # the Compare page's toggle: one switch for every page
LAST_RUN_KEY = "analysis_last_run"  # the run last picked on an analysis page, offered first on the others


def sidebar(lang: str) -> Style:
    """The language switch, the presentation toggle and the toolbar image format (shared with
    Compare, remembered across pages); returns the figure Style. The page links are the shared
    navigation's (`session.init_page`: every page in pages/)."""
    return page_frame.figure_options(page_frame.language_sidebar())


def finished_rows() -> list[RunRow]:
    """Runs that finished with results, newest first."""
    return [r for r in resources.rows() if r.comparable]


def query_value(name: str) -> str | None:
    """The first `?name=` value of the page's address, if any."""
    values = st.query_params.get_all(name)
    return values[0] if values else None


def run_picker(
    label: str,
    rows: Sequence[RunRow],
    key: str,
    lang: str,
    default: str | None = None,
    note: Callable[[RunRow], str] | None = None,
    remember: bool = True,
    prefer: Callable[[RunRow], bool] | None = None,
) -> str:
    """A select box of runs (name, model; `note` adds a remark); returns the run id.

    The first choice is `default` (a ?run= link), else the run last analysed on any analysis
    page (`remember`) when `prefer` likes it, else the newest run `prefer` likes (default:
    runs that read text, what these pages explain), else the newest run."""
    ids = [r.run_id for r in rows]
    by_id = {r.run_id: r for r in rows}
    page_frame.remember(key)  # the pick survives a visit to another page
    if default and default not in ids:
        # A ?run= link to a run that cannot be analysed (corrupt: a file missing or truncated,
        # failed, still running): say why instead of silently showing another run.
        row = next((r for r in resources.rows() if r.run_id == default), None)
        if row is not None:
            state = t(f"state.{row.state}", lang, default=row.state)
            st.warning(f"{t('an.cannot_open', lang)} {row.run_id} ({state})" + (f": {row.error}" if row.error else ""))
    if st.session_state.get(key) not in ids:
        liked = [r.run_id for r in rows if (prefer or (lambda x: x.model in ("enhanced", "gpt2rec")))(r)]
        last = st.session_state.get(LAST_RUN_KEY) if remember else None
        st.session_state[key] = next(r for r in (default, last if last in liked else None, *liked, *ids) if r in ids)

    def fmt(run_id: str) -> str:
        r = by_id[run_id]
        text = f"{r.name} · {model_display_name(r.config, lang)}"
        extra = note(r) if note else ""
        return f"{text} · {extra}" if extra else text

    chosen = str(st.selectbox(label, ids, key=key, format_func=fmt))
    if remember:
        st.session_state[LAST_RUN_KEY] = chosen  # a plain key: it outlives this page's widgets
    return chosen


@dataclass(frozen=True, eq=False)
class Loaded:
    """A finished run ready to analyse: its model on its data and split."""

    run_id: str
    run_dir: str  # the run's folder: the cache key (with `stamp`), unique across stores
    run: Any
    config: Any
    data: Any
    split: Any
    model: Any
    stamp: float


@st.cache_resource(max_entries=4, show_spinner=False)
def _dataset(data_config: Any, split_config: Any) -> tuple[Any, Any]:
    from rec_core.data import load_dataset
    from rec_core.split import make_split

    data = load_dataset(data_config)
    return data, make_split(data, split_config)


@st.cache_resource(max_entries=4, show_spinner=False)
def _model(run_dir: str, stamp: float) -> Loaded:
    from rec_core.analysis import load_model, open_run, run_config
    from rec_core.runs import RunStore

    folder = Path(run_dir)
    run = open_run(RunStore(folder.parent), folder.name)
    config = run_config(run)
    data, split = _dataset(config.data, config.split)
    return Loaded(folder.name, run_dir, run, config, data, split, load_model(run, data), stamp)


def load(run_id: str, lang: str) -> Loaded:
    """The run's model, data and split (cached per run id + results.json's modification time).

    A run that cannot be opened (still running, checkpoint missing or from another version)
    ends the page with its message: nothing below can be drawn without the model."""
    from rec_core.errors import RecCoreError

    with st.spinner(t("an.loading_model", lang)):
        resources.wait_library()
        folder = resources.store().root / run_id
        try:
            return _model(str(folder), resources.file_stamp(folder / "results.json"))
        except RecCoreError as exc:
            st.error(f"{t('an.cannot_open', lang)}\n\n{exc}", icon=":material/block:")
            st.stop()
            raise  # unreachable: st.stop() ends the script run


@st.cache_data(max_entries=32, show_spinner=False)
def projection(run_dir: str, stamp: float, side: str, view: str, params: Any) -> np.ndarray:
    """(n, 2) UMAP layout of the run's `side` embeddings in `view` (cached per run and view, in
    memory and on disk: `rec_core.analysis.projection_cache`, also filled in the background when
    the app sees a run finish)."""
    from rec_core.analysis import embeddings, project
    from rec_core.analysis.entities import check_side
    from rec_core.analysis.projection_cache import load_projection, projection_key, save_projection

    key = projection_key(run_dir, stamp, side, view, params)
    stored = load_projection(key)
    if stored is not None:
        return stored
    coords = project(embeddings(_model(run_dir, stamp).model, check_side(side), view), params)
    save_projection(key, coords)
    return coords


def projection_stored(run_dir: str, stamp: float, side: str, view: str, params: Any) -> bool:
    """Whether this layout is on disk already (then the page reads it at once)."""
    from rec_core.analysis.projection_cache import load_projection, projection_key

    return load_projection(projection_key(run_dir, stamp, side, view, params)) is not None


@st.cache_data(max_entries=16, show_spinner=False)
def aligned(run_dir: str, stamp: float, side: str, params: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """((2n, 2) joint UMAP layout of the run's `side` ID and text vectors, stacked [ID; text] with
    unit-length rows, (n,) cosine between each entity's two vectors), or None when the model has
    no text view in the space of its ID embeddings (`rec_core.analysis.alignment`)."""
    from rec_core.analysis import project
    from rec_core.analysis.alignment import aligned_spaces
    from rec_core.analysis.entities import check_side

    found = aligned_spaces(_model(run_dir, stamp).model, check_side(side))
    if found is None:
        return None
    return project(found.stacked, params), found.cosine


def show_aligned(
    loaded: Loaded, side: str, params: Any, attributes: pd.DataFrame, run: str, style: Style, lang: str
) -> None:
    """The Embeddings page's "aligned" layout: the mean cosine between each entity's ID and text
    vector for warm and for cold entities, and one joint map of both views (or one sentence
    when the model has no text view in its ID space)."""
    import math

    from rec_app.figures import aligned_figure
    from rec_core.analysis.alignment import mean_by_group

    with st.spinner(t("emb.projecting", lang)):
        found = aligned(loaded.run_dir, loaded.stamp, side, params)
    if found is None:
        st.info(t("emb.aligned_none", lang))
        return
    coords, cosine = found
    warmth = attributes["warmth"].astype(str).tolist()
    means = mean_by_group(cosine, warmth)
    for col, group in zip(st.columns(2), ("warm", "cold")):
        value = means.get(group, math.nan)
        col.metric(
            t("emb.aligned_metric", lang, group=t(f"an.warmth.{group}", lang)),
            "–" if math.isnan(value) else f"{value:.3f}",
            help=t("emb.aligned_help", lang, what=t(f"an.{side}s", lang)),
        )
    title = t("emb.aligned_title", lang, what=t(f"an.{side}s", lang), run=run)
    figure = aligned_figure(coords, attributes["label"].astype(str).tolist(), warmth, style, title)
    show(figure, f"aligned-{side}s", "emb_fig_aligned", lang)
    st.caption(t("emb.aligned_note", lang))


@st.cache_data(max_entries=32, show_spinner=False)
def agreement(run_dir: str, stamp: float, side: str, k: int) -> Any:
    """The run's ID-vs-text neighbourhood agreement (None for a model without a text view)."""
    from rec_core.analysis import view_agreement
    from rec_core.analysis.entities import check_side

    return view_agreement(_model(run_dir, stamp).model, check_side(side), k)


def content_shares(model: Any, run_id: str) -> dict[str, float | None]:
    """The run's share of attention on content tokens per side (`rec_core.analysis.content_share`),
    computed once per run and results.json stamp."""
    from rec_core.analysis import content_share

    folder = resources.store().root / run_id
    key = f"attn_content_share|{folder}|{resources.file_stamp(folder / 'results.json')}"
    if key not in st.session_state:
        st.session_state[key] = {side: content_share(model, side) for side in ("item", "user")}
    return st.session_state[key]


@st.cache_data(max_entries=16, show_spinner=False)
def attributes(run_dir: str, stamp: float, side: str) -> pd.DataFrame:
    """Colour attributes and hover labels of the run's users or items."""
    from rec_core.analysis import entity_attributes
    from rec_core.analysis.entities import check_side

    loaded = _model(run_dir, stamp)
    return entity_attributes(loaded.data, loaded.split, check_side(side))


@st.cache_data(max_entries=16, show_spinner=False)
def top_lists(run_dir: str, stamp: float) -> Any:
    """The run's top-10 of every test user, ranked as `evaluate` ranks them."""
    from rec_core.analysis import top_lists as compute

    loaded = _model(run_dir, stamp)
    return compute(loaded.model, loaded.data, loaded.split)


def show(fig: go.Figure, name: str, key: str, lang: str) -> None:
    """The figure (toolbar camera: slide-size PNG or SVG) and a row of downloads: SVG and
    PNG at slide resolution and standalone HTML, each rendered only when clicked."""
    show_figure(fig, name, key=key)

    def image(fmt: str) -> Callable[[], bytes]:
        return lambda: export_images({name: fig}, (fmt,))[f"{name}.{fmt}"]

    def page() -> str:
        return fig.to_html(include_plotlyjs=True, full_html=True, config={"displaylogo": False})

    row = st.container(horizontal=True, gap="small")  # three compact buttons under the figure
    row.download_button(
        "SVG",
        image("svg"),
        file_name=f"{name}.svg",
        mime="image/svg+xml",
        key=f"{key}_svg",
        on_click="ignore",
        help=t("an.download_svg", lang),
        icon=":material/download:",
    )
    row.download_button(
        "PNG",
        image("png"),
        file_name=f"{name}.png",
        mime="image/png",
        key=f"{key}_png",
        on_click="ignore",
        help=t("an.download_png", lang),
        icon=":material/download:",
    )
    row.download_button(
        "HTML",
        page,
        file_name=f"{name}.html",
        mime="text/html",
        key=f"{key}_html",
        on_click="ignore",
        help=t("an.download_html", lang),
        icon=":material/download:",
    )


def csv_download(frame: pd.DataFrame, name: str, key: str, lang: str, label: str | None = None) -> None:
    """A download of `frame` as UTF-8 CSV (with BOM, so Excel shows Chinese titles right); its
    0-based index and dataset id columns named as such (`rec_app.analysis.tables.export_columns`)."""
    st.download_button(
        label or t("an.csv", lang),
        export_columns(frame).to_csv(index=False).encode("utf-8-sig"),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=key,
        on_click="ignore",
        help=t("an.csv_help", lang),
        icon=":material/table_view:",
    )


def entity_picker(
    data: Any, side: str, key: str, lang: str, multi: bool = False, default: Sequence[int] = (0,)
) -> list[int]:
    """Search box plus a choice among the matches (ids, titles, user descriptions); returns
    the chosen entity indices. The chosen ones stay offered while the search text changes."""
    from rec_core.analysis import entity_labels, search_entities
    from rec_core.analysis.entities import check_side

    n = data.n_items if side == "item" else data.n_users
    labels = entity_labels(data, check_side(side))
    ids = (data.item_ids if side == "item" else data.user_ids).astype(str)
    page_frame.remember(f"{key}_q")  # the search and the choice survive a visit to another page
    page_frame.remember(key)
    query = st.text_input(t(f"an.search_{side}", lang), key=f"{key}_q", placeholder=t(f"an.search_{side}_hint", lang))
    found = search_entities(data, check_side(side), query, limit=200)
    if query.strip() and found.empty:
        st.warning(t("an.no_match", lang, query=query.strip()))
    if key in st.session_state:  # what the user chose (possibly nothing: an empty selection stays empty)
        current = st.session_state[key]
        chosen = [k for k in (current if isinstance(current, list) else [current]) if isinstance(k, int) and 0 <= k < n]
    else:  # first visit: something to look at right away
        chosen = [k for k in default if 0 <= k < n][: (6 if multi else 1)]
    options = list(dict.fromkeys(chosen + [int(k) for k in found["index"]]))
    fmt = lambda k: f"{ids[k]} · {labels[k]}"  # noqa: E731 - a one-line label
    if multi:
        st.session_state[key] = chosen
        picked = st.multiselect(
            t(f"an.pick_{side}s", lang),
            options,
            key=key,
            format_func=fmt,
            max_selections=6,
            placeholder=t("an.pick_hint", lang),
        )
        return [int(k) for k in picked]
    st.session_state[key] = chosen[0] if chosen else None
    one = st.selectbox(t(f"an.pick_{side}", lang), options, key=key, format_func=fmt)
    return [] if one is None else [int(one)]


@st.cache_data(max_entries=16, show_spinner=False)
def ranks(run_dir: str, stamp: float) -> pd.DataFrame:
    """(user, item, rank) of the run's test items, as `evaluate` wrote them (or recomputed)."""
    from rec_core.analysis import run_test_ranks

    loaded = _model(run_dir, stamp)
    return run_test_ranks(loaded.run, loaded.model, loaded.data, loaded.split)
