"""Live view of runs, polled from the run store: state icon, progress (steps within the epoch,
or texts being encoded, with a rate and an ETA), loss and validation curves, and a Stop button per run. Drawn in a fragment
that reruns on its own every `POLL_SECONDS`; what each row says is `rec_app.train.live_view`'s.

Shown: every queued or running run in the store (whoever started it, in any tab), the runs
this session launched or stopped, and runs that finished in the last `RECENT_S` (so a
reopened tab still sees how its runs ended). A run's process is another process; nothing
here holds it, so reruns, page switches and closed tabs do not affect it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import streamlit as st

from rec_app.ui import resources
from rec_app.ui.errors import show_error
from rec_app.ui.estimates import phase_estimate_s
from rec_app.figures import Style, chart_config, training_curves
from rec_app.i18n import part_metric_label, t
from rec_app.train.live_view import (
    STATE_ICONS,
    completion_sentence,
    ordered,
    progress_view,
    queue_positions,
    row_labels,
)
from rec_app.runs.table import RunRow
from rec_core.runs import Run
from rec_core.runs.runner import slots_of

__all__ = ["LAUNCHED_KEY", "LAST_LAUNCH_KEY", "POLL_SECONDS", "live_runs", "remember_launched"]

LAUNCHED_KEY = "launched_runs"
LAST_LAUNCH_KEY = "last_launch"  # the run ids of this session's last Launch click
DELETED_KEY = "deleted_runs"
POLL_SECONDS = 1.0
_SHOWN_FINISHED = 6  # finished runs kept in view
RECENT_S = 900  # runs that finished this recently are shown to every session


def remember_launched(run_ids: list[str], *, click: bool = False) -> None:
    """Add runs launched from this session to the live view (newest first); `click`: they are
    the last Launch's runs (the panel says while some of them wait in the queue)."""
    st.session_state[LAUNCHED_KEY] = run_ids + [r for r in st.session_state.get(LAUNCHED_KEY, []) if r not in run_ids]
    if click:
        st.session_state[LAST_LAUNCH_KEY] = list(run_ids)


def _status(row: RunRow) -> dict[str, Any]:
    """status.json of an active run as stored (phase start, queued_at); {} if unreadable."""
    if row.state not in ("queued", "running"):
        return {}
    try:
        return Run(resources.store().root / row.run_id).raw_status()
    except Exception:  # noqa: BLE001 - deleted or being rewritten: the row still draws
        return {}


def _draw_run(row: RunRow, label: str, status: dict[str, Any], place: int | None, lang: str) -> None:
    active = row.state in ("queued", "running")
    counted = (row.progress or {}).get("steps") or (row.progress or {}).get("texts_total")  # own rate and ETA
    estimate = phase_estimate_s(row) if row.state == "running" and not counted else None
    view = progress_view(row, status, lang, phase_estimate_s=estimate, queue_position=place)
    title = f"{label} — {view.text}" if active else label  # a finished row's label says its state already
    with st.expander(title, expanded=active, icon=STATE_ICONS.get(row.state, ":material/help:")):
        processes = slots_of(status)  # {} for a finished run: only active rows say it
        st.caption(
            f"`{row.run_id}` · {row.model}{' · ' + row.preset if row.preset else ''} · {row.dataset} · "
            f"{t('field.seed', lang)} {row.seed}"
            + (f" · {t('live.processes', lang, n=processes)}" if processes > 1 else "")
        )
        if view.fraction is not None:
            st.progress(view.fraction, text=view.text)
        if row.state == "failed" or row.state == "corrupt":
            st.error(t("live.failed", lang) + "\n\n" + (row.error or t("live.no_error_text", lang)))
        ended = completion_sentence(row)
        if ended is not None:
            key, params = ended
            (st.info if row.state == "stopped" else st.caption)(t(key, lang, **params))
        if row.metrics:
            cols = st.columns(4)
            for col, m in zip(cols, ("ndcg@10", "hit@10", "recall@10", "mrr@10")):
                if m in row.metrics:
                    col.metric(part_metric_label(m, "test", lang), f"{row.metrics[m]:.4f}")
        history = Run(resources.store().root / row.run_id).history()
        if history:
            fig = training_curves({label: history}, Style(lang))
            st.plotly_chart(
                fig, key=f"live_curve_{row.run_id}", theme=None, config=chart_config(f"curves-{row.run_id}")
            )
        stopping = active and Run(resources.store().root / row.run_id).stop_requested()
        if stopping:
            st.caption(t("live.stopping", lang))
        if active:
            stop_label = t("live.stop_run", lang, seed=row.seed) if row.seed is not None else t("live.stop", lang)
            if st.button(stop_label, key=f"stop_{row.run_id}", help=t("live.stop_help", lang), disabled=stopping):
                resources.queue().stop(row.run_id)
                remember_launched([row.run_id])  # keep showing it once stopped, with its results
                st.toast(t("live.stop_requested", lang, name=label))


def _still_queued(rows: list[RunRow], lang: str) -> None:
    """While runs of the last Launch wait in the queue, say so; never once none does."""
    launched = st.session_state.get(LAST_LAUNCH_KEY) or []
    by_id = {r.run_id: r for r in rows}
    queued = sum(1 for run_id in launched if run_id in by_id and by_id[run_id].state == "queued")
    if queued:
        st.info(
            t("live.still_queued", lang, queued=queued, n=len(launched), parallel=resources.queue().max_parallel),
            icon=":material/hourglass_top:",
        )


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
        extra += [
            r.run_id
            for r in everything
            if r.finished_at and r.finished_at > recent_cut and r.run_id not in shown and r.run_id not in extra
        ]
        rows += [by_id[i] for i in extra[:_SHOWN_FINISHED]]
        gone = [i for i in launched if i not in by_id and not (store.root / i).is_dir()]
        if gone:  # deleted while shown: say so for the rest of the session, keep polling the others
            st.session_state[LAUNCHED_KEY] = [r for r in launched if r not in gone]
            st.session_state[DELETED_KEY] = st.session_state.get(DELETED_KEY, []) + gone
        for run_id in st.session_state.get(DELETED_KEY, []):
            st.warning(t("live.deleted", lang, run=run_id))
        st.subheader(t("live.title", lang))
        _still_queued(everything, lang)
        if not rows:
            st.caption(t("live.none", lang))
            return
        queued = sum(r.state == "queued" for r in rows)
        running = sum(r.state == "running" for r in rows)
        st.caption(t("live.summary", lang, running=running, queued=queued, parallel=resources.queue().max_parallel))
        statuses = {r.run_id: _status(r) for r in rows}
        rows = ordered(rows, statuses)
        labels = row_labels(rows, lang)
        places = queue_positions(rows, statuses)
        for row in rows:
            _draw_run(row, labels[row.run_id], statuses[row.run_id], places.get(row.run_id), lang)
            if row.comparable:  # finished: its first UMAP layouts are made now, not on the page
                resources.precompute_projections(row.run_id)
    except Exception as exc:  # noqa: BLE001 - the panel must keep polling after a bad read
        show_error(exc, lang)
