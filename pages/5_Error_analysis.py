"""Error analysis: one user under two runs, the users where each run wins most, items never found."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rec_app.ui import analysis_pages as ap
from rec_app.ui import resources
from rec_app.ui.errors import page_guard
from rec_app.ui.page_frame import page_icon, remember
from rec_app.ui.session import init_page
from rec_app.compare.groups import baseline_for_run
from rec_app.analysis.tables import localized
from rec_app.analysis.users import first_user, metric_pair, per_user_differences
from rec_app.figures import run_colours
from rec_app.i18n import part_metric_label, t

USER_KEY = "err_user_id"

lang = init_page("err.title", page_icon("error_analysis"))
with page_guard(lang):
    st.title(t("err.title", lang))
    st.caption(t("err.intro", lang))
    style = ap.sidebar(lang)
    rows = ap.finished_rows()
    if len(rows) < 2:
        st.info(t("err.need_two", lang))
        st.page_link("pages/1_Train.py", label=t("nav.train", lang), icon=":material/rocket_launch:")
        st.stop()

    from rec_core.analysis import (
        EntityNotFound,
        check_same_split,
        never_retrieved,
        resolve_entity,
        held_out_table,
        top_lists,
        top_side_by_side,
        training_history,
        user_differences,
        user_profile,
    )
    from rec_app.figures import difference_histogram
    from rec_core.errors import RecCoreError

    wanted = st.query_params.get_all("run")
    r1, r2 = st.columns(2)
    with r1:
        run_a = ap.run_picker(t("an.run_a", lang), rows, "err_run_a", lang, default=wanted[0] if wanted else None)
    with r2:
        # The natural B is an ID-only baseline of the same data, split and seed (Compare's rule).
        base = baseline_for_run(run_a, rows)
        run_b = ap.run_picker(
            t("an.run_b", lang),
            [r for r in rows if r.run_id != run_a],
            "err_run_b",
            lang,
            default=wanted[1] if len(wanted) > 1 else base,
            remember=False,
        )
    a, b = ap.load(run_a, lang), ap.load(run_b, lang)
    try:
        check_same_split(a.config, b.config)
    except RecCoreError as exc:
        st.warning(str(exc))
        st.stop()
    names = {r.run_id: r.name for r in rows}
    name_a, name_b = f"A · {names[run_a]}", f"B · {names[run_b]}"
    colours = run_colours([name_a, name_b])  # A and B keep these colours in every chart of the page
    # Columns say only "A" or "B" (a run's name would not fit beside the others); this legend and
    # each column's tooltip name the runs.
    st.markdown(
        " &nbsp; ".join(f'<span style="color:{colours[n]}">■</span> **{n}**' for n in (name_a, name_b)),
        unsafe_allow_html=True,
    )
    data, split = a.data, a.split
    metric_options = ["ndcg@10", "hit@10", "recall@10", "mrr@10"]
    remember("err_metric", "ndcg@10", metric_options)
    metric = st.selectbox(
        t("err.metric", lang),
        metric_options,
        key="err_metric",
        format_func=lambda m: part_metric_label(m, "test", lang),
    )
    metric_text = part_metric_label(metric, "test", lang)
    per_a, per_b = resources.per_user_table(run_a), resources.per_user_table(run_b)
    a_wins, b_wins = user_differences(per_a, per_b, data, split, metric, n=25)
    remember(USER_KEY)
    if USER_KEY not in st.session_state:  # ?user=ID, else the user A helps most
        st.session_state[USER_KEY] = st.query_params.get("user") or first_user(a_wins, b_wins, per_a, data.user_ids)

    # -- one user --------------------------------------------------------------------------------------
    st.subheader(t("err.one_user", lang))
    raw = st.text_input(t("err.user_id", lang), key=USER_KEY, help=t("err.user_id_help", lang))
    user = None
    examples = ", ".join(map(str, data.user_ids[:3]))
    if not raw.strip():  # nothing typed yet: what to do, not "no user with id ''"
        st.info(t("err.user_id_empty", lang, examples=examples))
    else:
        try:
            user = resolve_entity(data, "user", raw)
        except EntityNotFound:
            st.warning(t("err.user_id_unknown", lang, id=raw.strip(), n=data.n_users, examples=examples))
    if user is not None:
        profile = user_profile(data, user)
        st.markdown(f"**{t('an.user', lang)} {profile.pop('id')}** — {profile.pop('text')}")
        if profile:
            st.caption(" · ".join(f"{t(f'an.field.{k}', lang, default=k)}: {v}" for k, v in profile.items()))
        pair = metric_pair(per_a, per_b, user, metric)
        if pair is not None:
            m1, m2, _ = st.columns([1, 1, 2])
            va, vb = pair
            m1.metric(f"{metric_text} · A", f"{va:.3f}", f"{va - vb:+.3f}" if va != vb else None)
            m2.metric(f"{metric_text} · B", f"{vb:.3f}", f"{vb - va:+.3f}" if va != vb else None)
        h1, h2 = st.columns(2)
        with h1:
            history = training_history(data, split, user)
            st.markdown(f"**{t('err.history', lang, n=len(history))}**")
            st.dataframe(
                history.drop(columns=["item"]).rename(columns=lambda c: t(f"err.col.{c}", lang, default=c)),
                hide_index=True,
                width="stretch",
                height=min(320, 38 + 35 * max(1, len(history))),
            )
            ap.csv_download(history, f"history-user-{raw}", "err_csv_history", lang)
        with h2:
            ranks = {"A": ap.ranks(a.run_dir, a.stamp), "B": ap.ranks(b.run_dir, b.stamp)}
            held = localized(held_out_table(data, split, user, ranks), lang)
            st.markdown(f"**{t('err.test_items', lang, n=len(held))}**")
            if held.empty:
                st.info(t("err.no_test_items", lang))
            else:
                st.dataframe(
                    held.drop(columns=["item"]).rename(columns=lambda c: t(f"err.col.{c}", lang, default=c)),
                    hide_index=True,
                    width="stretch",
                    column_config={
                        x: st.column_config.NumberColumn(
                            t("err.col.rank_of", lang, run=x), width="small", help=name, format="%g"
                        )
                        for x, name in (("A", name_a), ("B", name_b))
                    },
                )
                st.caption(t("err.rank_note", lang))
            ap.csv_download(
                held.rename(columns={"A": f"rank {name_a}", "B": f"rank {name_b}"}),
                f"test-items-user-{raw}",
                "err_csv_test",
                lang,
            )
        tops = {}
        for name, loaded in (("A", a), ("B", b)):
            lists = ap.top_lists(loaded.run_dir, loaded.stamp)
            try:
                tops[name] = lists.of(user)
            except KeyError:  # a user without test items: rank for them alone, the same way
                tops[name] = top_lists(loaded.model, data, split, users=[user]).items[0]
        side = top_side_by_side(data, split, user, tops)
        st.markdown(f"**{t('err.top10', lang)}**")
        st.dataframe(
            side,
            hide_index=True,
            width="stretch",
            column_config={
                "rank": st.column_config.NumberColumn(t("err.col.rank", lang), width="small"),
                **{x: st.column_config.TextColumn(x, help=name) for x, name in (("A", name_a), ("B", name_b))},
                **{
                    f"{x} hit": st.column_config.CheckboxColumn(
                        t("err.hit_of", lang, run=x), width="small", help=t("err.hit_help", lang)
                    )
                    for x in "AB"
                },
            },
        )
        ap.csv_download(
            side.rename(columns={"A": name_a, "B": name_b, "A hit": f"{name_a} hit", "B hit": f"{name_b} hit"}),
            f"top10-user-{raw}",
            "err_csv_top",
            lang,
        )

    # -- who gains, who loses ---------------------------------------------------------------------------
    st.subheader(t("err.lists", lang))
    st.caption(t("err.lists_note", lang, metric=metric_text))

    def shown(table: pd.DataFrame) -> pd.DataFrame:
        out = table.drop(columns=["user"])
        label = metric_text
        return out.rename(columns={f"{metric} A": f"{label} · A", f"{metric} B": f"{label} · B"}).rename(
            columns=lambda c: t(f"err.col.{c}", lang, default=c)
        )

    def opener(table: pd.DataFrame, key: str):  # returns a Streamlit on_select callback
        def open_user() -> None:
            picked = st.session_state[key].selection.rows
            if picked:
                st.session_state[USER_KEY] = str(table["id"].iat[picked[0]])

        return open_user

    a_wins, b_wins = localized(a_wins, lang), localized(b_wins, lang)
    # One above the other: side by side, their columns (profile, test items) would be cut off.
    l1, l2 = st.container(), st.container()
    for col, table, key, title_key in (
        (l1, a_wins, "err_a_wins", "err.a_wins"),
        (l2, b_wins, "err_b_wins", "err.b_wins"),
    ):
        with col:
            st.markdown(f"**{t(title_key, lang, a=names[run_a], b=names[run_b])}**")
            if table.empty:
                st.info(t("err.no_wins", lang))
                continue
            st.dataframe(
                shown(table),
                hide_index=True,
                width="stretch",
                height=300,
                key=key,
                on_select=opener(table, key),
                selection_mode="single-row",
                column_config={
                    t("err.col.diff", lang): st.column_config.NumberColumn(format="%+.3f"),
                    **{f"{metric_text} · {x}": st.column_config.NumberColumn(format="%.3f") for x in "AB"},
                },
            )
            ap.csv_download(table, key.replace("_", "-"), f"{key}_csv", lang)
    ap.show(
        difference_histogram(
            per_user_differences(per_a, per_b, metric),
            style,
            t("err.hist_title", lang, metric=metric_text),
            t("err.hist_axis", lang, metric=metric_text),
            (name_a, name_b),
            colours,
        ),
        "per-user-differences",
        "err_fig_hist",
        lang,
    )

    # -- items nobody is shown ----------------------------------------------------------------------------
    st.subheader(t("err.never", lang))
    st.caption(t("err.never_note", lang))
    summary, items = never_retrieved(
        data, split, {"A": ap.top_lists(a.run_dir, a.stamp), "B": ap.top_lists(b.run_dir, b.stamp)}
    )
    summary, items = localized(summary, lang), localized(items, lang)
    # What a tick means, said once for both tables (the columns are too narrow to say it).
    st.caption(t("err.never_legend", lang, a=name_a, b=name_b))
    n1, n2 = st.container(), st.container()  # full width each: no column out of view
    with n1:
        st.dataframe(
            summary.rename(columns=lambda c: t(f"err.col.{c}", lang, default=c)),
            hide_index=True,
            width="stretch",
            column_config={
                x: st.column_config.NumberColumn(t("err.col.never_count", lang, run=x), help=name)
                for x, name in (("A", name_a), ("B", name_b))
            },
        )
        ap.csv_download(
            summary.rename(columns={"A": name_a, "B": name_b}),
            "never-retrieved-by-segment",
            "err_csv_never_summary",
            lang,
        )
    with n2:
        st.dataframe(
            items.drop(columns=["item"]).rename(columns=lambda c: t(f"err.col.{c}", lang, default=c)),
            hide_index=True,
            width="stretch",
            height=320,
            column_config={
                x: st.column_config.CheckboxColumn(
                    t("err.col.never_by", lang, run=x), width="small", help=t("err.never_tick_help", lang, run=name)
                )
                for x, name in (("A", name_a), ("B", name_b))
            },
        )
        ap.csv_download(
            items.rename(columns={"A": f"never retrieved by {name_a}", "B": f"never retrieved by {name_b}"}),
            "never-retrieved-items",
            "err_csv_never_items",
            lang,
        )
