"""Embeddings: UMAP maps of a run's item or user embeddings, per view, for two runs side by side, or
its ID and text vectors in one map (aligned)."""

from __future__ import annotations

import streamlit as st

from rec_app.ui import analysis_pages as ap
from rec_app.ui.errors import page_guard
from rec_app.ui.page_frame import page_icon, remember
from rec_app.ui.report_button import offer_report_figure
from rec_app.ui.session import init_page
from rec_app.figures import run_colours
from rec_app.i18n import t
from rec_app.report import ReportFigure

lang = init_page("emb.title", page_icon("embeddings"))
with page_guard(lang):
    st.title(t("emb.title", lang))
    st.caption(t("emb.intro", lang))
    style = ap.sidebar(lang)
    # Popularity's "embedding" is one number per item: there is no neighbourhood to draw.
    rows = [r for r in ap.finished_rows() if r.model != "pop"]
    if not rows:
        st.info(t("an.no_runs", lang))
        st.page_link("pages/1_Train.py", label=t("nav.train", lang), icon=":material/rocket_launch:")
        st.stop()

    from rec_core.analysis import UmapParams, colourings, projection_warm
    from rec_app.figures import projection_figure
    from rec_core.errors import ConfigError

    c1, c2 = st.columns(2)
    remember("emb_layout", "views")
    layout = (
        c1.segmented_control(
            t("emb.layout", lang),
            ["views", "runs", "aligned"],
            key="emb_layout",
            format_func=lambda m: t(f"emb.layout_{m}", lang),
        )
        or "views"
    )
    remember("emb_side", "item")
    side = (
        c2.segmented_control(
            t("emb.side", lang), ["item", "user"], key="emb_side", format_func=lambda s: t(f"an.{s}s", lang)
        )
        or "item"
    )
    r1, r2 = st.columns(2)
    with r1:
        run_a = ap.run_picker(
            t("an.run_a" if layout == "runs" else "an.run", lang),
            rows,
            "emb_run_a",
            lang,
            default=ap.query_value("run"),
        )
    run_b = None
    if layout == "runs":
        with r2:
            others = [r for r in rows if r.run_id != run_a] or rows
            run_b = ap.run_picker(t("an.run_b", lang), others, "emb_run_b", lang, remember=False)
    with st.expander(t("emb.umap_settings", lang)):
        u1, u2, u3 = st.columns(3)
        for key, first in (("emb_nn", 15), ("emb_md", 0.1), ("emb_seed", 0)):
            remember(key, first)
        params = UmapParams(
            n_neighbors=u1.slider(
                t("emb.n_neighbors", lang), 2, 100, key="emb_nn", help=t("emb.n_neighbors_help", lang)
            ),
            min_dist=u2.slider(
                t("emb.min_dist", lang), 0.0, 1.0, step=0.05, key="emb_md", help=t("emb.min_dist_help", lang)
            ),
            seed=int(u3.number_input(t("emb.seed", lang), 0, 2**31 - 1, key="emb_seed", help=t("emb.seed_help", lang))),
        )

    runs = [ap.load(run_a, lang)] + ([ap.load(run_b, lang)] if run_b else [])
    names = {r.run_id: r.name for r in rows}
    if len(runs) == 2 and runs[0].config.data != runs[1].config.data:
        st.warning(t("emb.different_data", lang))
        st.stop()
    attributes = ap.attributes(runs[0].run_dir, runs[0].stamp, side)
    if layout == "aligned":  # one joint map of the run's ID and text vectors
        ap.show_aligned(runs[0], side, params, attributes, names.get(run_a, run_a), style, lang)
        st.stop()
    options = colourings(attributes, side)
    remember("emb_colour", options[0] if options else None, options)
    colour = st.selectbox(
        t("emb.colour", lang), options, key="emb_colour", format_func=lambda c: t(f"an.colour.{c}", lang, default=c)
    )
    if layout == "runs":
        common = [v for v in runs[0].model.views if v in runs[1].model.views]
        remember("emb_view", "fused" if "fused" in common else common[0], common)
        view = (
            st.segmented_control(
                t("emb.view", lang), common, key="emb_view", format_func=lambda v: t(f"an.view.{v}", lang)
            )
            or common[0]
        )
        wanted = [(r, view) for r in runs]
    else:
        wanted = [(runs[0], v) for v in runs[0].model.views]

    panels, panel_views, skipped = [], [], []
    # Layouts not on disk yet are computed here, one by one: a bar says which and how many.
    bar = None
    for k, (loaded, view) in enumerate(wanted):
        if bar is None and not ap.projection_stored(loaded.run_dir, loaded.stamp, side, view, params):
            bar = st.progress(0.0)
        if bar is not None:
            text = t("emb.progress", lang, k=k + 1, n=len(wanted), view=t(f"an.view.{view}", lang))
            if not projection_warm():
                text += " " + t("emb.compiling", lang)
            bar.progress(k / len(wanted), text=text)
        try:
            coords = ap.projection(loaded.run_dir, loaded.stamp, side, view, params)
        except ConfigError:  # e.g. users without profile text have no text view
            skipped.append(t(f"an.view.{view}", lang))
            continue
        label = t(f"an.view.{view}", lang) if layout == "views" else f"{names.get(loaded.run_id, loaded.run_id)}"
        panels.append((label, coords))
        panel_views.append(view)
    if bar is not None:
        bar.empty()
    with st.spinner(t("emb.projecting", lang)):
        agreements = [(loaded, ap.agreement(loaded.run_dir, loaded.stamp, side, 10)) for loaded in runs]
    if skipped:
        st.caption(t("emb.skipped_views", lang, views=", ".join(skipped)))

    cols = st.columns(len(agreements))
    for col, (loaded, agr) in zip(cols, agreements):
        label = t("emb.agreement", lang, run=names.get(loaded.run_id, loaded.run_id))
        if agr is None:
            col.metric(label, "–", help=t("emb.agreement_none", lang))
        else:
            col.metric(
                label, f"{agr.mean:.3f}", help=t("emb.agreement_help", lang, k=agr.k, chance=f"{agr.chance:.3f}")
            )
            col.caption(t("emb.agreement_chance", lang, chance=f"{agr.chance:.3f}", n=agr.n))
    if not panels:
        st.info(t("emb.nothing", lang))
        st.stop()
    first_view = wanted[0][1]

    def title_of(code: str) -> str:
        what = t(f"an.{side}s", code)
        return (
            t("emb.title_views", code, what=what, run=names.get(run_a, run_a))
            if layout == "views"
            else t("emb.title_runs", code, what=what, view=t(f"an.view.{first_view}", code))
        )

    # Two runs side by side: each panel in its run's colour (one colour per run on this page).
    colours = run_colours([label for label, _ in panels]) if layout == "runs" else None
    ap.show(
        projection_figure(panels, attributes, colour, style, title_of(lang), colours),
        f"projection-{side}s-{colour}",
        "emb_fig",
        lang,
    )

    def panels_in(code: str) -> list[tuple[str, object]]:  # panel titles of the views in another language
        if layout == "runs":
            return panels
        return [(t(f"an.view.{v}", code), xy) for v, (_, xy) in zip(panel_views, panels)]

    # The defence report takes this projection (the same points), drawn again in the report's language.
    offer_report_figure(
        ReportFigure(
            "projection",
            "projection",
            lambda s: projection_figure(panels_in(s.lang), attributes, colour, s, title_of(s.lang), colours),
            title_of,
        )
    )
    st.caption(t("emb.read_note", lang, k=params.n_neighbors, d=params.min_dist, seed=params.seed))
