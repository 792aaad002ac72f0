"""Home: what the app does, which data and backbones are ready offline, and every run."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rec_app.ui import resources
from rec_app.ui.errors import page_guard, show_error
from rec_app.ui.page_frame import language_sidebar, page_icon
from rec_app.ui.session import init_page
from rec_app.train.datasets import availability
from rec_app.i18n import format_duration, t
from rec_app.runs.model_names import model_display_name
from rec_app.runs.table import RunRow


def backbone_list(rows: list[dict[str, object]], lang: str) -> None:
    for b in rows:
        name = str(b["name"])
        text = t(f"backbone.{name}_long", lang, default=str(b["description"]))
        mark = ":material/check_circle:" if b.get("available") else ":material/remove_circle_outline:"
        st.markdown(f"{mark} **{name}** — {text if b.get('available') else t('home.bb_missing', lang)}")


def best_epoch_cell(row: RunRow, lang: str) -> str:
    """ "3 (cached)": the restored epoch and, for a multi-phase run, its phase; "–" if none."""
    if not row.best_epoch:
        return "–"
    phase = row.best_phase
    if not phase or phase == "train":
        return str(row.best_epoch)
    return f"{row.best_epoch} ({t(f'phase_name.{phase}', lang, default=phase)})"


@st.fragment(run_every=1.0)
def backbones_pending(lang: str) -> None:
    """On a fresh server the backbone check waits for the library's background import: poll
    for it here instead of blocking the whole page, then redraw the page once."""
    try:
        ready = resources.backbones_nowait() is not None
    except Exception as exc:  # noqa: BLE001 - e.g. the library failed to import: say so, stop polling
        show_error(exc, lang)
        return
    if ready:
        st.rerun()
    st.caption(t("home.bb_checking", lang))


lang = init_page("home.title", page_icon("home"))
with page_guard(lang):
    lang = language_sidebar()  # the one language switch, in the sidebar like on every page
    st.title(t("home.title", lang))
    st.markdown(t("home.intro", lang))

    left, right = st.columns(2)
    with left:
        st.subheader(t("home.datasets", lang))
        for ds in resources.datasets():
            name, path, url = ds["name"], ds.get("path"), ds.get("url")
            where_now = availability(ds)
            if where_now == "ready":
                where = t("home.ds_generated", lang) if path is None else t("home.ds_on_disk", lang, path=path)
                st.markdown(f":material/check_circle: **{name}** — {where}")
            elif where_now == "incomplete":
                st.markdown(f":material/warning: **{name}** — {t('home.ds_incomplete', lang, path=path)}")
            else:
                st.markdown(f":material/download: **{name}** — {t('home.ds_downloadable', lang, path=path, url=url)}")
        st.markdown(f":material/upload_file: **csv** — {t('home.ds_csv', lang)}")
    with right:
        st.subheader(t("home.backbones", lang))
        ready = resources.backbones_nowait()
        if ready is None:
            backbones_pending(lang)
        else:
            backbone_list(ready, lang)

    st.subheader(t("home.runs", lang))
    rows = resources.rows()
    if not rows:
        st.info(t("home.no_runs", lang))
    else:
        table = pd.DataFrame(
            {
                t("col.name", lang): [r.name for r in rows],
                t("col.model", lang): [model_display_name(r.config, lang) for r in rows],
                t("col.preset", lang): [r.preset or "–" for r in rows],
                t("col.dataset", lang): [r.dataset for r in rows],
                t("col.split", lang): [r.split for r in rows],
                t("col.seed", lang): [r.seed for r in rows],
                t("col.status", lang): [
                    t(f"state.{r.state}", lang) + (f" — {t('home.no_epoch', lang)}" if r.no_epoch else "") for r in rows
                ],
                # Test-split metrics of the primary ranking, labelled so: never confused with validation.
                t("col.test_ndcg10", lang): [r.metrics.get("ndcg@10") for r in rows],
                t("col.test_hit10", lang): [r.metrics.get("hit@10") for r in rows],
                t("col.best_epoch", lang): [best_epoch_cell(r, lang) for r in rows],
                t("col.started", lang): [
                    r.started_at.astimezone().strftime("%m-%d %H:%M") if r.started_at else "–" for r in rows
                ],
                t("col.duration", lang): [
                    format_duration(r.duration_s, lang) if r.duration_s is not None else "–" for r in rows
                ],
                t("col.open", lang): [f"./Compare?run={r.run_id}&lang={lang}" if r.comparable else None for r in rows],
            }
        )
        picked = st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            on_select="rerun",
            selection_mode="multi-row",
            key="home_runs",
            column_config={
                t("col.name", lang): st.column_config.TextColumn(width="medium"),
                t("col.test_ndcg10", lang): st.column_config.NumberColumn(format="%.4f"),
                t("col.test_hit10", lang): st.column_config.NumberColumn(format="%.4f"),
                t("col.best_epoch", lang): st.column_config.TextColumn(help=t("col.best_epoch_help", lang)),
                t("col.open", lang): st.column_config.LinkColumn(display_text=t("col.open_text", lang)),
            },
        )
        chosen = [rows[i].run_id for i in picked.selection.rows if rows[i].comparable]
        problems = [r for r in rows if r.error and r.state in ("corrupt", "done")]
        for r in problems[:5]:
            st.warning(t("home.run_problem", lang, run=r.run_id, error=r.error))
        c1, c2 = st.columns([1, 4])
        if c1.button(t("home.compare_selected", lang), disabled=not chosen, type="primary"):
            st.session_state["compare_runs"] = chosen
            st.switch_page("pages/2_Compare.py")
        c2.caption(t("home.select_hint", lang))
