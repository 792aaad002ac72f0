"""Compare: runs or seed groups side by side, paired tests against a reference, figures, the report."""

from __future__ import annotations

import streamlit as st

from rec_app.ui import resources
from rec_app.ui.charts import export_all_button, show_figure
from rec_app.ui.compare_view import (
    duplicate_notes,
    labels_table,
    cached_comparisons,
    differences_display,
    group_label,
    summary_display,
    verdict_sentences,
)
from rec_app.ui.errors import page_guard
from rec_app.ui.page_frame import figure_options, language_sidebar, page_icon, remember
from rec_app.ui.report_button import REPORT_FIGURES_KEY, report_buttons
from rec_app.ui.session import init_page
from rec_app.compare.export import export_frame, to_latex
from rec_app.compare.groups import default_reference, group_runs, initial_selection, single_groups, usable_row
from rec_app.compare.table import (
    TABLE_METRICS,
    adjust_for_multiplicity,
    differences_table,
    random_reference,
    segment_table,
    summary_table,
    tested_weights_table,
)
from rec_app.compare.equal_budget import control_comparisons, equal_budget_pairs, warm_start_display, warm_start_table
from rec_app.figures import metric_bars, run_colours, segment_bars, training_curves
from rec_app.i18n import metric_label, part_metric_label, t
from rec_app.report import ReportInputs

MAX_CURVES = 12  # overlaid training curves; more is unreadable on a slide

lang = init_page("compare.title", page_icon("compare"))
with page_guard(lang):
    lang = language_sidebar()
    st.title(t("compare.title", lang))
    st.caption(t("compare.intro", lang))
    rows = resources.rows()
    if not any(usable_row(r, include_stopped=True) for r in rows):
        st.info(t("compare.no_runs", lang))
        st.page_link("pages/1_Train.py", label=t("nav.train", lang), icon=":material/rocket_launch:")
        st.stop()
    style = figure_options(lang)

    # Every widget below keeps its value when the user visits another page and comes back.
    remember("cmp_mode", "groups")
    mode = (
        st.segmented_control(
            t("compare.mode", lang),
            ["groups", "runs"],
            key="cmp_mode",
            format_func=lambda m: t(f"compare.mode_{m}", lang),
        )
        or "groups"
    )
    remember("cmp_stopped", False)
    show_stopped = st.toggle(
        t("compare.show_stopped", lang), key="cmp_stopped", help=t("compare.show_stopped_help", lang)
    )
    stopped_mark = t("compare.stopped_mark", lang)
    groups = (
        group_runs(rows, include_stopped=show_stopped, stopped_mark=stopped_mark, lang=lang)
        if mode == "groups"
        else single_groups(rows, include_stopped=show_stopped, stopped_mark=stopped_mark)
    )
    if not groups:
        st.info(t("compare.only_stopped", lang))
        st.stop()
    by_key = {g.key: g for g in groups}
    remember("cmp_sel")
    wanted = st.session_state.pop("compare_runs", None) or st.query_params.get_all("run")
    if wanted:  # from the home page's selection or a ?run= link
        st.session_state["cmp_sel"] = [g.key for g in groups if any(r.run_id in wanted for r in g.runs)]
    # Keep only what still exists (runs may have been deleted since the last rerun); a new
    # session or a switch between groups and runs starts from the three newest, plus the
    # baseline they would be measured against when it is not among them.
    if st.session_state.get("cmp_last_mode") != mode and not wanted:
        st.session_state["cmp_sel"] = initial_selection(groups)
    st.session_state["cmp_last_mode"] = mode
    st.session_state["cmp_sel"] = [k for k in st.session_state.get("cmp_sel", []) if k in by_key]
    chosen = st.multiselect(
        t("compare.pick", lang),
        list(by_key),
        key="cmp_sel",
        format_func=lambda k: group_label(by_key[k], lang),
        placeholder=t("compare.pick_hint", lang),
    )
    if not chosen:
        st.info(t("compare.pick_hint", lang))
        st.stop()
    selected = [by_key[k] for k in chosen]
    colours = run_colours([g.name for g in selected])  # one colour per model in every figure of this page
    c1, c2 = st.columns([3, 2])
    # Never by recency: finished baseline runs on the same dataset and split, the most seeds
    # (`default_reference`); when none is selected the user picks one.
    remember("cmp_ref")
    if st.session_state.get("cmp_ref") not in chosen:
        st.session_state["cmp_ref"] = default_reference(selected)
    ref_key = c1.selectbox(
        t("compare.reference", lang),
        chosen,
        format_func=lambda k: group_label(by_key[k], lang),
        key="cmp_ref",
        placeholder=t("compare.pick_reference", lang),
        help=t("compare.reference_help", lang),
    )
    remember("cmp_k", "10")
    k_choice = (
        c2.segmented_control(
            t("compare.cutoff", lang),
            ["5", "10", "20", "all"],
            key="cmp_k",
            format_func=lambda k: t("compare.all_k", lang) if k == "all" else f"@{k}",
        )
        or "10"
    )
    metrics = [m for m in TABLE_METRICS if k_choice == "all" or m.endswith(f"@{k_choice}")]
    reference = by_key[ref_key] if ref_key in by_key else None
    random = random_reference(reference, resources.run_results) if reference is not None else {}

    summary = summary_table(selected, TABLE_METRICS)
    for note in duplicate_notes(selected, lang):
        st.warning(note)
    st.subheader(t("compare.table", lang))
    st.dataframe(
        summary_display(summary, metrics, lang, random, len(reference.runs) if reference else 0),
        hide_index=True,
        width="stretch",
    )
    st.caption(t("compare.table_note", lang) + (" " + t("compare.random_note", lang) if random else ""))
    with st.expander(t("compare.labels", lang)):
        st.dataframe(labels_table(selected, lang), hide_index=True, width="stretch")
    with st.expander(t("compare.tested_weights", lang)):
        weights = tested_weights_table(selected)
        weights["best_phase"] = [t(f"phase_name.{p}", lang, default=p) if p else "–" for p in weights["best_phase"]]
        st.dataframe(
            weights.rename(
                columns={
                    "group": t("col.group", lang),
                    "seed": t("col.seed", lang),
                    "best_epoch": t("col.best_epoch", lang),
                    "best_phase": t("col.best_phase", lang),
                    "summary": t("col.ended", lang),
                }
            ),
            hide_index=True,
            width="stretch",
        )
    warm = warm_start_table(selected, resources.run_results)  # which MF run each warm start used
    if not warm.empty:
        with st.expander(t("compare.warm_sources", lang)):
            st.dataframe(warm_start_display(warm, lang), hide_index=True, width="stretch")

    # A warm-started group's reference is its equal-budget control, MF continued (rec_app.compare.equal_budget);
    # the reference chosen above (MF from scratch) stays beside it.
    pairs = equal_budget_pairs(selected, groups)
    found_controls = control_comparisons(pairs, lambda ref, others: cached_comparisons(ref, others, TABLE_METRICS))
    found = []
    if reference is None:
        st.info(t("compare.no_reference", lang))
    else:
        st.subheader(t("compare.diffs", lang, reference=reference.title))
        st.markdown(t("compare.rule", lang))
        found = cached_comparisons(reference, [g for g in selected if g.key != ref_key], TABLE_METRICS)
    # Holm over everything this page shows: the differences to the reference and to the controls.
    adjusted = adjust_for_multiplicity([*found, *found_controls], metrics)
    comparisons, controls = adjusted[: len(found)], adjusted[len(found) :]
    for gc in comparisons:
        if gc.error:
            st.warning(t("compare.cannot_pair", lang, group=gc.group, error=gc.error))
    diffs = differences_table(comparisons, random)
    if reference is not None and len(selected) < 2:
        st.info(t("compare.need_two", lang))
    elif not diffs.empty:
        for sentence in verdict_sentences(comparisons, metrics, lang):
            st.markdown(f"- {sentence}")
        st.dataframe(
            differences_display(diffs, metrics, lang),
            hide_index=True,
            width="stretch",
            column_config={t("col.group", lang): st.column_config.TextColumn(width="medium")},
        )
    if pairs:
        st.subheader(t("compare.control_heading", lang))
        st.markdown(t("compare.control_rule", lang))
        for group, control in pairs:
            if control is None:
                st.info(t("compare.no_control", lang, group=group.name))
        for gc in controls:
            if gc.error:
                st.warning(t("compare.cannot_pair", lang, group=gc.group, error=gc.error))
        control_diffs = differences_table(controls, random)
        if not control_diffs.empty:
            for sentence in verdict_sentences(controls, metrics, lang):
                st.markdown(f"- {sentence}")
            st.dataframe(differences_display(control_diffs, metrics, lang), hide_index=True, width="stretch")

    e1, e2, _ = st.columns([1, 1, 3])
    e1.download_button(
        t("export.csv", lang),
        export_frame(summary, diffs, TABLE_METRICS).to_csv(index=False),
        file_name="comparison.csv",
        mime="text/csv",
        on_click="ignore",
    )
    latex = to_latex(
        summary,
        metrics,
        diffs,
        metric_label=lambda m: metric_label(m, lang),
        caption=t("export.latex_caption", lang, reference=reference.name if reference else "–"),
        note=t("compare.latex_note", lang),
        group_header=t("col.group", lang),
    )
    e2.download_button(t("export.latex", lang), latex, file_name="comparison.tex", mime="text/x-tex", on_click="ignore")

    st.subheader(t("compare.figures", lang))
    remember("cmp_seg_metric", "ndcg@10")
    seg_metric = st.selectbox(
        t("compare.segment_metric", lang),
        list(TABLE_METRICS),
        key="cmp_seg_metric",
        format_func=lambda m: part_metric_label(m, "test", lang),
    )
    segments = segment_table(selected, resources.run_results, seg_metric)
    curve_runs = [r for g in selected for r in g.runs][:MAX_CURVES]
    # One curve per run, named by its group (unique: single runs sharing a name are named by their
    # id) and seed, in its group's colour; seeds of a group get their own dash.
    curves = {
        (g.name if mode == "runs" else f"{g.name} · s{r.seed}"): (g.name, r.run_id)
        for g in selected
        for r in g.runs
        if r in curve_runs
    }
    histories = {name: resources.run_history(run_id) for name, (_, run_id) in curves.items()}
    curve_group = {name: group for name, (group, _) in curves.items()}
    curve_colours = {name: colours[group] for name, group in curve_group.items()}

    def figures() -> dict[str, object]:
        figs = {"metrics": metric_bars(summary, metrics, style, colours=colours)}
        for kind in ("item", "user"):
            if (segments["kind"] == kind).any():
                figs[f"segments-{kind}"] = segment_bars(segments, seg_metric, kind, style, colours=colours)
        if any(histories.values()):
            figs["training-curves"] = training_curves(histories, style, colours=curve_colours)
        return figs

    for name, fig in figures().items():
        show_figure(fig, name, key=f"fig_{name}")
    if len(curve_runs) < sum(len(g.runs) for g in selected):
        st.caption(t("compare.curves_capped", lang, n=MAX_CURVES))
    export_all_button(figures, "figures.zip", lang)

    st.subheader(t("report.heading", lang))
    results = {r.run_id: resources.run_results(r.run_id) for g in selected for r in g.runs}
    report_buttons(
        ReportInputs(
            groups=selected,
            reference=reference,
            comparisons=comparisons,
            results=results,
            histories=histories,
            curve_groups=curve_group,
            metrics=metrics,
            segment_metric=seg_metric,
            presentation=style.presentation,
            control_comparisons=controls,
            missing_controls=[group.name for group, control in pairs if control is None],
        ),
        st.session_state.get(REPORT_FIGURES_KEY, {}),
        lang,
    )
