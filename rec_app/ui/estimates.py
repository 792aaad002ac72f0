"""The Train page's duration estimate: which measured costs apply, the queue ahead, the words.

Order of sources: finished runs with the same cost-relevant settings, else a calibration of
those settings on the target dataset (started in the background on request), else no
number (`rec_app.estimate`, `rec_app.estimate.calibration`). The queue is read from the store: what is
left of each running run and all of each queued one come before the runs being estimated.
Every run is priced for the load there is now (`rec_core.runs.load.machine_others`: other
work's runnable threads over the last minute, this app's runs and calibrations left out;
`rec_app.estimate.busy_for`: with the runs the queue runs beside it), a running one also from its own pace.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from rec_app.ui import resources
from rec_app.estimate import calibration as cal
from rec_app import estimate as est
from rec_app.estimate import observed as observed_runs
from rec_app.i18n import format_duration, t
from rec_app.runs.table import RunRow
from rec_core.runs.load import machine_others
from rec_core.runs.runner import slots_of

__all__ = ["Outcome", "compute", "show", "phase_estimate_s", "run_estimate", "calibration_enabled"]

_CACHE_KEY = "_estimates_of_runs"  # run id -> (Estimate or None, when looked for) of runs in the queue
_RETRY_S = 30.0
BUSY_SHOWN = 1.2  # the estimate says the machine is busy from this busy factor on
CALIBRATE_ENV = "REC_CORE_CALIBRATE"


def calibration_enabled() -> bool:
    """Whether Estimate may start a calibration ($REC_CORE_CALIBRATE, default 1; the tests set
    0: a calibration on ML-100K encodes its texts and trains real steps for a minute or more)."""
    return os.environ.get(CALIBRATE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


@dataclass(frozen=True)
class Outcome:
    estimate: est.Estimate | None
    pending: bool = False  # a calibration of these settings is running
    error: str | None = None  # the last calibration failed with this message
    size_known: bool = True
    text_model: bool = False  # the model encodes texts (the cache sentence applies)
    n_runs: int = 1
    parallel: int = 1
    processes: int = 1  # each of these runs trains in this many processes (takes as many queue slots)
    own_s: float | None = None  # these runs alone, in waves of `parallel` (what a confirmation is about)
    start_s: float | None = None  # until the first of them starts (the queue ahead)
    end_s: float | None = None  # until the last of them is done
    ahead: int = 0  # runs running or queued before them
    unknown_ahead: int = 0  # of those, runs without an estimate (not counted in start_s / end_s)
    measure_s: float | None = None  # how long a calibration of these settings takes here (expected)
    measuring_for_s: float | None = None  # how long the running one has been at it
    rough: est.Estimate | None = None  # meanwhile: from the project's benchmarks (basis "prior"), labelled rough


def _read(run_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]], dict[str, Any] | None]:
    try:
        return resources.run_results(run_id), resources.run_history(run_id), resources.store().get(run_id).raw_status()
    except Exception:  # noqa: BLE001 - a vanished or corrupt run just does not count
        return None, [], None


def _startup_s(profile: est.Profile) -> float:
    """A run handed to the queue's warm worker skips the imports; else a fresh process's."""
    if getattr(resources.queue(), "warm", False):
        return est.WARM_STARTUP_S
    return profile.startup_s if profile.startup_s is not None else est.COLD_STARTUP_S


def _raw_status(run_id: str) -> dict[str, Any]:
    try:
        return resources.store().get(run_id).raw_status()
    except Exception:  # noqa: BLE001 - a vanished or corrupt run: nothing to read (and one queue slot)
        return {}


def run_estimate(
    config: Mapping[str, Any], size: est.DatasetSize | None, rows: list[RunRow], *, busy: float | None = None
) -> est.Estimate | None:
    """The estimate of one run of `config` from finished runs or a calibration; None if neither.
    `busy`: the busy factor to price it for (None: as measured)."""
    if size is None:
        return None
    config = dict(config)
    root = resources.store().root
    calibration = cal.calibrated(config, root)
    warm = observed_runs.cache_likely_warm(config, rows, calibrated=calibration is not None)
    observed = observed_runs.observed_profile(config, rows, _read)
    if observed is not None:
        profile, n = observed
        basis: dict[str, Any] = {"basis": "runs", "n_runs": n}
    elif calibration is not None:
        profile, when = calibration
        basis = {"basis": "calibration", "measured_at": when}
    else:
        return None
    return est.estimate(config, size, profile, cache_warm=warm, startup_s=_startup_s(profile), busy=busy, **basis)


def _size(config: Mapping[str, Any]) -> est.DatasetSize | None:
    return est.dataset_size(config.get("data") or {})


def _estimate_of_run(row: RunRow, rows: list[RunRow]) -> est.Estimate | None:
    """A queued or running run's own estimate, priced as on an idle machine (`est.rescale` prices
    it for the load there is), kept for the session once known (an unknown one is looked for
    again after _RETRY_S: the panel asks every second)."""
    known: dict[str, tuple[est.Estimate | None, float]] = st.session_state.setdefault(_CACHE_KEY, {})
    found, when = known.get(row.run_id, (None, -math.inf))
    if found is None and time.monotonic() - when > _RETRY_S:
        found = run_estimate(row.config, _size(row.config), rows, busy=1.0)
        known[row.run_id] = (found, time.monotonic())
    return found


def phase_estimate_s(row: RunRow) -> float | None:
    """Estimated seconds of the phase a running run is in before it trains (encoding texts, or
    loading), for the live panel's "about N s left"; None when unknown."""
    rows = resources.rows()
    found = _estimate_of_run(row, rows)
    if found is None:
        return None
    alongside = sum(r.state == "running" for r in rows) - 1
    found = est.rescale(found, est.busy_for(row.config, machine_others(), alongside))
    if row.phase == "encoding text":
        return found.parts.get("encoding", 0.0) + found.parts.get("loading", 0.0) or None
    if row.phase in ("loading data", "building model"):
        return found.parts.get("loading") or None
    return None


def _slots(run_id: str) -> int:
    """Queue slots a queued or running run takes (its processes; 1 if unreadable)."""
    return slots_of(_raw_status(run_id))


def _fresh_start_s(found: est.Estimate, config: Mapping[str, Any], others: float | None, alongside: int) -> float:
    """A fresh process's imports here, priced for the load now: the calibrations' timing, else the estimate's."""
    timed = cal.fresh_start_s(resources.store().root)  # as on an idle machine
    return found.fresh_start_s if timed is None else timed * (est.busy_for(config, others, alongside) or 1.0)


def _unknown(config: dict[str, Any], size: est.DatasetSize, rows: list[RunRow], measure: bool, **shape: Any) -> Outcome:
    """No measured costs apply: whether a calibration runs (started now when `measure`), how
    long it takes, and meanwhile the rough estimate from the project's benchmarks."""
    root = resources.store().root
    pending = cal.measurement_pending(root, config)
    error = cal.calibration_error(config, root)
    if measure and not pending and calibration_enabled():
        pending = cal.start_measurement(root, config)
        error = None
    started = cal.measurement_started_at(root, config) if pending else None
    warm = observed_runs.cache_likely_warm(config, rows, calibrated=False)
    return Outcome(
        None,
        pending=pending,
        error=None if pending else error,
        measure_s=cal.expected_s(root, config),
        measuring_for_s=None if started is None else max(0.0, time.time() - started),
        rough=est.estimate(config, size, est.prior_profile(config), cache_warm=warm, basis="prior"),
        **shape,
    )


def _ahead(
    running: list[RunRow], queued: list[RunRow], rows: list[RunRow], others: float | None, alongside: int
) -> tuple[list[float], list[float], int]:
    """(seconds left of each running run, seconds of each queued one, how many had no estimate)."""
    left: list[float] = []
    waiting: list[float] = []
    unknown = 0
    for row in running:
        its_own = _estimate_of_run(row, rows)  # remaining_s also reads its pace so far: the load it meets
        priced = est.rescale(its_own, est.busy_for(row.config, others, alongside)) if its_own else None
        rest = est.remaining_s(row, priced, est.trained_s(_raw_status(row.run_id)))
        unknown += rest is None
        left.append(rest or 0.0)
    for row in queued:
        own = _estimate_of_run(row, rows)
        own = est.rescale(own, est.busy_for(row.config, others, alongside)) if own else None
        unknown += own is None
        waiting.append(own.total_s if own else 0.0)
    return left, waiting, unknown


def compute(
    config: dict[str, Any], size: est.DatasetSize | None, n_runs: int, *, measure_if_unknown: bool, processes: int = 1
) -> Outcome:
    """The estimate of `n_runs` runs of `config` (seed-independent), each in `processes`
    processes (as many queue slots), behind the current queue; may start a calibration
    (`measure_if_unknown`)."""
    text = est.encode_signature(config) is not None
    parallel = resources.queue().max_parallel
    shape: dict[str, Any] = {"n_runs": n_runs, "parallel": parallel, "processes": processes}
    if size is None:
        return Outcome(None, size_known=False, **shape)
    rows = resources.rows()
    others = machine_others()  # over the last minute; our runs and calibrations (this app's processes) left out
    # Runs ahead and these share the machine `parallel` at a time: each beside the others' threads.
    alongside = max(0, min(parallel, sum(r.state in ("running", "queued") for r in rows) + n_runs) - 1)
    found = run_estimate(config, size, rows, busy=est.busy_for(config, others, alongside))
    if found is None:
        return _unknown(config, size, rows, measure_if_unknown, text_model=text, **shape)
    if processes > 1:  # torchrun's fresh processes, not the warm worker
        found = est.with_processes(found, processes, _fresh_start_s(found, config, others, alongside))
    running = [r for r in rows if r.state == "running"]
    queued = sorted((r for r in rows if r.state == "queued"), key=lambda r: (r.created_at is None, r.created_at))
    left, waiting, unknown = _ahead(running, queued, rows, others, alongside)
    mine = [found.total_s] * n_runs
    if getattr(resources.queue(), "warm", False):  # each run that waits costs the next worker's imports
        free = max(0, parallel - sum(_slots(r.run_id) for r in running))
        waiting, mine = est.worker_starts(waiting, mine, free, _fresh_start_s(found, config, others, alongside))
    start, end = est.schedule(
        left,
        waiting,
        mine,
        parallel,
        running_slots=[_slots(r.run_id) for r in running],
        queued_slots=[_slots(r.run_id) for r in queued],
        slots=processes,
    )
    _, own_end = est.schedule([], [], mine, parallel, slots=processes)
    return Outcome(
        found,
        text_model=text,
        own_s=own_end,
        start_s=start,
        end_s=end,
        ahead=len(running) + len(queued),
        unknown_ahead=unknown,
        **shape,
    )


def show(outcome: Outcome, lang: str) -> None:
    """Write the estimate (or why there is none) into the page."""
    if not outcome.size_known:
        st.info(t("estimate.size_unknown", lang))
        return
    e = outcome.estimate
    if e is None:
        expected = format_duration(outcome.measure_s, lang)
        if outcome.pending:
            spent = outcome.measuring_for_s or 0.0
            st.info(t("estimate.measuring", lang, expected=expected), icon=":material/timer:")
            # Never full before it is done: a measurement can take longer than the ones before it.
            done = min(0.95, spent / outcome.measure_s) if outcome.measure_s else 0.0
            st.progress(done, text=t("estimate.measuring_for", lang, spent=format_duration(spent, lang)))
        elif outcome.error:
            st.warning(t("estimate.measure_failed", lang, error=outcome.error))
        else:
            st.info(t("estimate.unknown", lang, expected=expected), icon=":material/timer:")
        if outcome.rough is not None:  # Launch need not wait for the measurement
            st.caption(t("estimate.rough", lang, total=format_duration(outcome.rough.total_s * outcome.n_runs, lang)))
        return
    parts = ", ".join(
        f"{t(f'estimate.part_{k}', lang)} {format_duration(v, lang)}" for k, v in e.parts.items() if v >= 0.5
    )
    lines = [t("estimate.one_run", lang, total=format_duration(e.total_s, lang), parts=parts)]
    if e.early_stop_possible:
        lines[0] += " " + t("estimate.early_stop", lang)
    if outcome.processes > 1:
        lines[0] += " " + t("estimate.processes", lang, n=outcome.processes)
    if outcome.ahead:
        queue = t(
            "estimate.queue",
            lang,
            ahead=outcome.ahead,
            start=format_duration(outcome.start_s, lang),
            end=format_duration(outcome.end_s, lang),
        )
        if outcome.unknown_ahead:
            queue += " " + t("estimate.queue_unknown", lang, k=outcome.unknown_ahead)
        lines.append(queue)
    elif outcome.n_runs > 1:
        lines.append(
            t(
                "estimate.all_done",
                lang,
                n=outcome.n_runs,
                end=format_duration(outcome.end_s, lang),
                parallel=outcome.parallel,
            )
        )
    basis = (
        t("estimate.basis_runs", lang, n=e.n_runs)
        if e.basis == "runs"
        else t("estimate.basis_calibration", lang, when=e.measured_at or "?")
    )
    if not e.same_data:
        basis += " " + t("estimate.scaled", lang)
    if e.busy is not None and e.busy >= BUSY_SHOWN:
        basis += " " + t("estimate.busy", lang, factor=f"{e.busy:.1f}")
    cache = t("estimate.cache_warm" if e.cache_warm else "estimate.cache_cold", lang) if outcome.text_model else ""
    text = "\n\n".join(lines) + f"\n\n{basis} {cache}".rstrip()
    if est.needs_confirmation(outcome.own_s, "") == "long":
        st.warning(text, icon=":material/hourglass_top:")
    else:
        st.info(text, icon=":material/timer:")
