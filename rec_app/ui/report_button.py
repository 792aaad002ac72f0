"""The defence report on the Compare page: its buttons, and the analysis figures it takes in.

The Attention and Embeddings pages hand the figure they show to `offer_report_figure`; the
Compare page's `report_buttons` lists them and builds the report (`rec_app.report`) only when
a download is clicked (building it renders every figure; a page rerun must not pay that).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import streamlit as st

from rec_app.i18n import t
from rec_app.report import ReportFigure, ReportInputs, build_report, report_zip

__all__ = ["REPORT_FIGURES_KEY", "offer_report_figure", "report_buttons"]

REPORT_FIGURES_KEY = "report_figures"  # a plain session key: name -> ReportFigure, last shown first


def offer_report_figure(figure: ReportFigure) -> None:
    """Offer the figure an analysis page shows to the defence report (replacing that page's
    previous one of the same name)."""
    offered = dict(st.session_state.get(REPORT_FIGURES_KEY, {}))
    offered.pop(figure.name, None)
    st.session_state[REPORT_FIGURES_KEY] = {figure.name: figure, **offered}


def report_buttons(inputs: ReportInputs, offered: Mapping[str, ReportFigure], lang: str) -> None:
    """Which analysis figures go in, then "Export report" (HTML) and the ZIP of its parts."""
    extras = list(offered)
    if extras:
        # Keyed by what is offered: a figure offered since the last visit starts chosen, and a
        # choice made over another set of figures (kept by Streamlit as widget state) never hides it.
        chosen = st.multiselect(
            t("report.extras", lang),
            extras,
            default=extras,
            key="report_extras_" + "_".join(sorted(extras)),
            format_func=lambda n: offered[n].caption(lang),
            help=t("report.extras_help", lang),
        )
    else:
        chosen = []
        st.caption(t("report.no_extras", lang))
    final = dataclasses.replace(inputs, extras=[offered[n] for n in chosen if n in offered])

    def page() -> str:
        return build_report(final, lang).html

    def parts() -> bytes:
        return report_zip(build_report(final, lang))

    row = st.container(horizontal=True, gap="small")
    row.download_button(
        t("report.export", lang),
        page,
        file_name="defence-report.html",
        mime="text/html",
        on_click="ignore",
        type="primary",
        icon=":material/description:",
        help=t("report.export_help", lang),
        key="report_html",
    )
    row.download_button(
        t("report.export_zip", lang),
        parts,
        file_name="defence-report.zip",
        mime="application/zip",
        on_click="ignore",
        icon=":material/folder_zip:",
        help=t("report.export_zip_help", lang),
        key="report_zip",
    )
