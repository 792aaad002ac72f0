"""Attention: what the enhanced model's ID query reads in an item's or a user's metadata."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from rec_app.ui import analysis_pages as ap
from rec_app.ui.errors import page_guard
from rec_app.ui.page_frame import page_icon, remember
from rec_app.ui.report_button import offer_report_figure
from rec_app.ui.session import init_page
from rec_app.i18n import t
from rec_app.report import ReportFigure

lang = init_page("attn.title", page_icon("attention"))
with page_guard(lang):
    st.title(t("attn.title", lang))
    st.caption(t("attn.intro", lang))
    style = ap.sidebar(lang)
    rows = ap.finished_rows()
    if not rows:
        st.info(t("an.no_runs", lang))
        st.page_link("pages/1_Train.py", label=t("nav.train", lang), icon=":material/rocket_launch:")
        st.stop()

    # The analysis library pulls in torch: imported once there is something to analyse.
    from rec_core.analysis import (
        EntityNotFound,
        RunNotAnalysable,
        explain_many,
        explain_pair,
        field_table,
        has_attention,
        pair_rank,
        ranked_test_pair,
        recommended_items,
        require_attention,
        resolve_entity,
        shared_max,
        token_table,
    )
    from rec_app.figures import attention_heatmaps, field_bars, field_heatmap

    rows = sorted(rows, key=lambda r: not has_attention(r.config.get("model", {})))  # explainable runs first
    run_id = ap.run_picker(
        t("an.run", lang),
        rows,
        "attn_run",
        lang,
        default=ap.query_value("run"),
        prefer=lambda r: has_attention(r.config.get("model", {})),
        note=lambda r: "" if has_attention(r.config.get("model", {})) else t("attn.no_attention_tag", lang),
    )
    loaded = ap.load(run_id, lang)
    try:
        require_attention(loaded.model, run_id)
    except RunNotAnalysable as exc:
        st.warning(str(exc), icon=":material/visibility_off:")
        st.stop()
    data = loaded.data
    shares = ap.content_shares(loaded.model, run_id)
    s1, s2, _ = st.columns([1, 1, 2])
    for col, side in ((s1, "item"), (s2, "user")):
        if shares[side] is not None:
            col.metric(t(f"attn.content_{side}s", lang), f"{shares[side]:.0%}", help=t("attn.content_help", lang))

    c1, c2 = st.columns([3, 1])
    remember("attn_mode", "item")
    mode = (
        c1.segmented_control(
            t("attn.mode", lang),
            ["item", "user", "pair", "top"],
            key="attn_mode",
            format_func=lambda m: t(f"attn.mode_{m}", lang),
        )
        or "item"
    )
    remember("attn_join", True)
    join = c2.toggle(t("attn.join", lang), key="attn_join", help=t("attn.join_help", lang))
    for side in ("item", "user"):  # ?item=ID / ?user=ID open that entity
        wanted = ap.query_value(side)
        if wanted is not None and st.session_state.get(f"attn_from_query_{side}") != wanted:
            st.session_state[f"attn_from_query_{side}"] = wanted
            try:
                st.session_state[f"attn_{side}s"] = [resolve_entity(data, side, wanted)]
                st.session_state[f"attn_one_{side}"] = st.session_state[f"attn_{side}s"][0]
            except EntityNotFound as exc:
                st.error(str(exc))

    titles: Callable[[str], tuple[str, list[str]]]  # heatmap title and panel titles in a language
    try:  # a model whose users read no text cannot explain users: say so, then stop
        if mode in ("item", "user"):
            picked = ap.entity_picker(data, mode, f"attn_{mode}s", lang, multi=True)
            if not picked:
                st.info(t("an.pick_hint", lang))
                st.stop()
            views = explain_many(loaded.model, data, mode, picked, join)

            def entity_titles(code: str, views=views, mode=mode) -> tuple[str, list[str]]:
                return t(f"attn.heat_title_{mode}", code, n=len(views)), [f"{v.entity_id} · {v.label}" for v in views]

            titles = entity_titles
        elif mode == "pair":
            p1, p2 = st.columns(2)
            # First opened on a held-out test pair, which the test ranking ranks (user 0 and item 0
            # are mostly a training pair: masked, "not ranked").
            first_user, first_item = ranked_test_pair(data, loaded.split)
            with p1:
                user = ap.entity_picker(data, "user", "attn_one_user", lang, default=(first_user,))
            with p2:
                item = ap.entity_picker(data, "item", "attn_one_item", lang, default=(first_item,))
            if not user or not item:
                st.info(t("an.pick_hint", lang))
                st.stop()
            pair = explain_pair(loaded.model, data, user[0], item[0], join)
            views = [pair.user, pair.item]
            # The score alone says little: where it puts the item among all of the user's items does.
            placed = pair_rank(loaded.model, data, loaded.split, user[0], item[0])
            m1, m2, _ = st.columns([1, 1, 2])
            m1.metric(t("attn.score", lang), f"{pair.score:.3f}", help=t("attn.score_help", lang))

            def rank_text(code: str, placed=placed) -> str:
                if placed.rank is None:
                    return t(f"attn.rank_none_{placed.reason}", code)
                return t("attn.rank_value", code, rank=f"{placed.rank:g}", n=placed.n_ranked)

            m2.metric(t("attn.rank", lang), rank_text(lang), help=t("attn.rank_help", lang, n=placed.n_ranked))

            def pair_titles(code: str, pair=pair, rank_text=rank_text) -> tuple[str, list[str]]:
                return (
                    t("attn.heat_title_pair", code, score=f"{pair.score:.3f}") + " · " + rank_text(code),
                    [
                        f"{t('an.user', code)} {pair.user.entity_id} · {pair.user.label}",
                        f"{t('an.item', code)} {pair.item.entity_id} · {pair.item.label}",
                    ],
                )

            titles = pair_titles
        else:
            p1, p2 = st.columns([3, 1])
            with p1:
                user = ap.entity_picker(data, "user", "attn_one_user", lang)
            remember("attn_top_k", 5)
            k = p2.slider(t("attn.top_k", lang), 1, 10, key="attn_top_k")
            if not user:
                st.info(t("an.pick_hint", lang))
                st.stop()
            items = recommended_items(loaded.model, data, loaded.split, user[0], k)
            views = explain_many(loaded.model, data, "item", items, join)

            def top_titles(code: str, views=views, user_id=data.user_ids[user[0]]) -> tuple[str, list[str]]:
                return (
                    t("attn.heat_title_top", code, k=len(views), user=user_id),
                    [f"#{n + 1} · {v.entity_id} · {v.label}" for n, v in enumerate(views)],
                )

            titles = top_titles
    except RunNotAnalysable as exc:
        st.warning(str(exc), icon=":material/visibility_off:")
        st.stop()

    if any(not v.seen_in_training for v in views):
        st.caption(t("attn.unseen_note", lang))
    st.caption(t("attn.read_note", lang))
    title, subtitles = titles(lang)
    ap.show(
        attention_heatmaps(views, style, title, subtitles, zmax=shared_max(views)),
        "attention-tokens",
        "attn_fig_tokens",
        lang,
    )
    run_name = next((r.name for r in rows if r.run_id == run_id), run_id)
    entities = ", ".join(v.entity_id for v in views)
    # The defence report takes this selection's heatmaps, drawn again in the report's language.
    offer_report_figure(
        ReportFigure(
            "attention",
            "attention-tokens",
            lambda s: attention_heatmaps(views, s, *titles(s.lang), zmax=shared_max(views)),
            lambda code: t(
                "report.attention_caption", code, run=run_name, what=f"{t(f'attn.mode_{mode}', code)}: {entities}"
            ),
        )
    )
    st.subheader(t("attn.fields", lang))
    fields_fig = (
        field_heatmap(views[0], style, t("attn.field_title_one", lang, entity=subtitles[0]))
        if len(views) == 1
        else field_bars(views, style, t("attn.field_title_many", lang))
    )
    ap.show(fields_fig, "attention-fields", "attn_fig_fields", lang)
    with st.expander(t("attn.tables", lang)):
        tokens, fields = token_table(views), field_table(views)
        st.dataframe(fields, hide_index=True, width="stretch")
        d1, d2, _ = st.columns([1, 1, 3])
        with d1:
            ap.csv_download(tokens, "attention-tokens", "attn_csv_tokens", lang, t("attn.csv_tokens", lang))
        with d2:
            ap.csv_download(fields, "attention-fields", "attn_csv_fields", lang, t("attn.csv_fields", lang))
