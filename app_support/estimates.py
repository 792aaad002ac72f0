"""The Train page's duration estimate: which measured costs apply, and how it is worded.

Order of sources: finished runs with the same cost-relevant settings, else a calibration of
those settings on this machine (started in the background on request), else no number.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import streamlit as st

from app_support import resources
from rec_app import estimate as est
from rec_app.i18n import format_duration, t

__all__ = ["Outcome", "compute", "show", "confirm_over_s"]


def confirm_over_s() -> float:
    """Runs estimated longer than this need an explicit confirmation (default 30 min)."""
    try:
        return float(os.environ.get("REC_CORE_CONFIRM_OVER_S", "1800"))
    except ValueError:
        return 1800.0


@dataclass(frozen=True)
class Outcome:
    estimate: est.Estimate | None
    pending: bool = False  # a calibration of these settings is running
    error: str | None = None  # the last calibration failed with this message
    size_known: bool = True
    text_model: bool = False  # the model encodes texts (the cache sentence applies)


def _read(run_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    try:
        return resources.run_results(run_id), resources.run_history(run_id)
    except Exception:  # noqa: BLE001 - a vanished or corrupt run just does not count
        return None, []


def compute(config: dict[str, Any], size: est.DatasetSize | None, *, measure_if_unknown: bool) -> Outcome:
    """The estimate of one run of `config` (seed-independent); may start a calibration."""
    if size is None:
        return Outcome(None, size_known=False)
    rows = resources.rows()
    root = resources.store().root
    warm = est.cache_likely_warm(config, rows)
    text = est.encode_signature(config) is not None
    calibration = est.calibration_costs(config, root)
    startup = calibration[0].startup_s if calibration else None
    observed = est.observed_costs(config, rows, _read)
    if observed is not None:
        costs, n = observed
        return Outcome(est.estimate(config, size, costs, cache_warm=warm, startup_s=startup, basis="runs", n_runs=n),
                       text_model=text)
    if calibration is not None:
        costs, when = calibration
        return Outcome(est.estimate(config, size, costs, cache_warm=warm, basis="calibration", measured_at=when),
                       text_model=text)
    pending = est.measurement_pending(root, config)
    error = est.calibration_error(config, root)
    if measure_if_unknown and not pending:
        pending = est.start_measurement(root, config)
        error = None
    return Outcome(None, pending=pending, error=None if pending else error)


def show(outcome: Outcome, n_seeds: int, parallel: int, lang: str) -> None:
    """Write the estimate (or why there is none) into the page."""
    if not outcome.size_known:
        st.info(t("estimate.size_unknown", lang))
        return
    e = outcome.estimate
    if e is None:
        if outcome.pending:
            st.info(t("estimate.measuring", lang), icon="⏱️")
        elif outcome.error:
            st.warning(t("estimate.measure_failed", lang, error=outcome.error))
        else:
            st.info(t("estimate.unknown", lang), icon="⏱️")
        return
    waves = -(-n_seeds // max(1, parallel))  # runs finish in waves of `parallel`
    parts = ", ".join(f"{t(f'estimate.part_{k}', lang)} {format_duration(v, lang)}" for k, v in e.parts.items() if v >= 0.5)
    head = t("estimate.one_run", lang, total=format_duration(e.total_s, lang), parts=parts)
    if n_seeds > 1:
        head += " " + t("estimate.all_runs", lang, n=n_seeds, total=format_duration(e.total_s * waves, lang))
    basis = (t("estimate.basis_runs", lang, n=e.n_runs) if e.basis == "runs"
             else t("estimate.basis_calibration", lang, when=e.measured_at or "?"))
    cache = t("estimate.cache_warm" if e.cache_warm else "estimate.cache_cold", lang) if outcome.text_model else ""
    text = f"{head}\n\n{basis} {cache}".rstrip()
    if e.total_s * waves > confirm_over_s():
        st.warning(text, icon="⏳")
    else:
        st.info(text, icon="⏱️")
