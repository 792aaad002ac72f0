"""Live view of runs, polled from the run store: phase, progress, loss and validation curves,
and a Stop button. Drawn in a fragment that reruns on its own every `POLL_SECONDS`.

Shown: every queued or running run in the store (whoever started it, in any tab), the runs
this session launched or stopped, and runs that finished in the last `RECENT_S` (so a
reopened tab still sees how its runs ended). A run's process is another process; nothing
here holds it, so reruns, page switches and closed tabs do not affect it.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Literal

import streamlit as st

from app_support import resources
from app_support.errors import show_error
from rec_app.figures import Style, chart_config, training_curves
from rec_app.i18n import metric_label, t
from rec_app.run_table import RunRow
from rec_core.runs import Run

__all__ = ["LAUNCHED_KEY", "POLL_SECONDS", "live_runs", "remember_launched"]

LAUNCHED_KEY = "launched_runs"
DELETED_KEY = "deleted_runs"
POLL_SECONDS = 2.0
_SHOWN_FINISHED = 6  # finished runs kept in view
RECENT_S = 900  # runs that finished this recently are shown to every session


def remember_launched(run_ids: list[str]) -> None:
    """Add runs launched from this session to the live view (newest first)."""
    st.session_state[LAUNCHED_KEY] = run_ids + [r for r in st.session_state.get(LAUNCHED_KEY, []) if r not in run_ids]


def _phase_text(row: RunRow, lang: str) -> str:
    progress = row.progress or {}
    if row.state == "queued":
        return t("live.queued", lang)
    if row.state == "running":
        if row.phase == "training" and progress.get("epochs"):
            return t("live.epoch", lang, k=progress.get("epoch", 0), n=progress["epochs"])
        return t(f"phase.{row.phase}", lang, default=str(row.phase or t("phase.starting", lang)))
    return t(f"state.{row.state}", lang)


def _status_state(row: RunRow) -> Literal["running", "complete", "error"]:
    if row.state in ("done", "stopped"):
        return "complete"
    return "error" if row.state in ("failed", "corrupt") else "running"


def _draw_run(row: RunRow, lang: str) -> None:
    label = f"{row.name} — {_phase_text(row, lang)}"
    active = row.state in ("queued", "running")
    with st.status(label, state=_status_state(row), expanded=active):
        st.caption(f"`{row.run_id}` · {row.model}{' · ' + row.preset if row.preset else ''} · {row.dataset} · "
                   f"{t('field.seed', lang)} {row.seed}")
        progress = row.progress or {}
        epochs = int(progress.get("epochs") or 0)
        if row.state == "running" and epochs:
            done = min(int(progress.get("epoch") or 0), epochs)
            st.progress(done / epochs, text=t("live.epoch", lang, k=done, n=epochs))
        elif row.state == "running":
            st.progress(0.0, text=_phase_text(row, lang))
        if row.state == "failed" or row.state == "corrupt":
            st.error(t("live.failed", lang) + "\n\n" + (row.error or t("live.no_error_text", lang)))
        if row.state == "stopped":
            st.info(t("live.stopped", lang))
        if row.metrics:
            cols = st.columns(4)
            for col, m in zip(cols, ("ndcg@10", "hit@10", "recall@10", "mrr@10")):
                if m in row.metrics:
                    col.metric(metric_label(m, lang), f"{row.metrics[m]:.4f}")
        history = Run(resources.store().root / row.run_id).history()
        if history:
            fig = training_curves({row.name: history}, Style(lang))
            st.plotly_chart(fig, key=f"live_curve_{row.run_id}", theme=None,
                            config=chart_config(f"curves-{row.run_id}"))
        stopping = active and Run(resources.store().root / row.run_id).stop_requested()
        if stopping:
            st.caption(t("live.stopping", lang))
        if active:
            if st.button(t("live.stop", lang), key=f"stop_{row.run_id}", help=t("live.stop_help", lang),
                         disabled=stopping):
                resources.queue().stop(row.run_id)
                remember_launched([row.run_id])  # keep showing it once stopped, with its results
                st.toast(t("live.stop_requested", lang, name=row.name))


@st.fragment(run_every=POLL_SECONDS)
def live_runs(lang: str) -> None:
    """The live panel; reruns every POLL_SECONDS while the Train page is open."""
    try:
        resources.queue().tick()  # also started by the server's ticker; harmless twice
        store = resources.store()
        launched: list[str] = list(st.session_state.get(LAUNCHED_KEY, []))
        everything = resources.rows()
        # Active runs from anywhere, then this session's runs and any run that finished in
        # the last RECENT_S (a reopened tab still sees how its runs ended).
        rows = [r for r in everything if r.state in ("queued", "running")]
        recent_cut = datetime.now(timezone.utc) - timedelta(seconds=RECENT_S)
        by_id = {r.run_id: r for r in everything}
        shown = {r.run_id for r in rows}
        extra = [i for i in launched if i in by_id and i not in shown]
        extra += [r.run_id for r in everything if r.finished_at and r.finished_at > recent_cut
                  and r.run_id not in shown and r.run_id not in extra]
        rows += [by_id[i] for i in extra[:_SHOWN_FINISHED]]
        gone = [i for i in launched if i not in by_id and not (store.root / i).is_dir()]
        if gone:  # deleted while shown: say so for the rest of the session, keep polling the others
            st.session_state[LAUNCHED_KEY] = [r for r in launched if r not in gone]
            st.session_state[DELETED_KEY] = st.session_state.get(DELETED_KEY, []) + gone
        for run_id in st.session_state.get(DELETED_KEY, []):
            st.warning(t("live.deleted", lang, run=run_id))
        st.subheader(t("live.title", lang))
        if not rows:
            st.caption(t("live.none", lang))
            return
        queued = sum(r.state == "queued" for r in rows)
        running = sum(r.state == "running" for r in rows)
        st.caption(t("live.summary", lang, running=running, queued=queued,
                     parallel=resources.queue().max_parallel))
        for row in rows:
            _draw_run(row, lang)
    except Exception as exc:  # noqa: BLE001 - the panel must keep polling after a bad read
        show_error(exc, lang)
