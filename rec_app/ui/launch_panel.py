"""The Train page's Estimate / Launch clicks: the runs they plan, the estimate box that follows
them, and the launch itself (with its confirmation rule). Decisions are `rec_app.train.plan`'s."""

from __future__ import annotations

from typing import Any

import streamlit as st

from rec_app import estimate as est
from rec_app.i18n import t
from rec_app.train.launch import submit_runs
from rec_app.train.plan import LaunchPlan, launch_gate, plan_launch
from rec_app.ui import resources
from rec_app.ui.errors import show_error
from rec_app.ui.estimates import compute, show
from rec_app.ui.live import remember_launched
from rec_core.errors import RecCoreError

__all__ = ["ESTIMATE_KEY", "estimate_box", "forget_other_choices", "plan_or_error", "estimate_or_launch"]

ESTIMATE_KEY = "tr__estimate_request"  # what the estimate box is about; dropped when it no longer applies


@st.fragment(run_every=2.0)
def estimate_box(lang: str) -> None:
    """The estimate of the last Estimate / Launch click, recomputed as the queue moves and a
    calibration finishes; nothing once the request is dropped (other choices, or launched)."""
    request = st.session_state.get(ESTIMATE_KEY)
    if not request:
        return
    try:
        size = est.DatasetSize(*request["size"]) if request["size"] else None
        outcome = compute(
            request["config"], size, request["n_runs"], measure_if_unknown=False, processes=request.get("processes", 1)
        )
        show(outcome, lang)
        # A refused Launch says why only while that still holds: once the measurement is in,
        # no "no estimate yet" stays beside the estimate.
        if request.get("refused") and outcome.size_known:
            reason = est.needs_confirmation(outcome.own_s, request["choices"][0])
            if reason:
                st.warning(t("train.needs_confirm" if reason == "long" else "train.needs_confirm_unknown", lang))
    except Exception as exc:  # noqa: BLE001 - the box must not take the page down
        show_error(exc, lang)


def forget_other_choices(choices: list[str]) -> None:
    """Drop the estimate box's request when it was about other choices (dataset, split, model, preset)."""
    if (st.session_state.get(ESTIMATE_KEY) or {}).get("choices") != choices:
        st.session_state.pop(ESTIMATE_KEY, None)


def plan_or_error(make_config: Any, common: dict[str, Any], lang: str, **options: Any) -> LaunchPlan | None:
    """The runs a click plans (`make_config()`: the form's config dict), or None after showing
    in the page what to fix first."""
    st.session_state.pop(ESTIMATE_KEY, None)
    try:
        plan = plan_launch(
            make_config(),
            common["seeds"],
            common["processes"],
            resources.store(),
            resources.backbones(),
            lang,
            **options,
        )
    except RecCoreError as exc:
        show_error(exc, lang, "train.invalid")
        return None
    if plan.sources:  # which MF run each seed starts from (and its control with it)
        runs = ", ".join(f"{s} → `{r}`" for s, r in plan.sources.items())
        st.caption(t("train.warm_sources", lang, runs=runs))
    return plan


def estimate_or_launch(
    plan: LaunchPlan, size: est.DatasetSize | None, choices: list[str], lang: str, *, launch: bool, confirmed: bool
) -> None:
    """Estimate the planned runs (the box follows them), or launch them unless they need a
    confirmation that was not given (then the box says why)."""
    dataset = choices[0]
    run_config = plan.configs[0].to_dict()
    measure = not launch or dataset != "synthetic"
    outcome = compute(run_config, size, len(plan.configs), measure_if_unknown=measure, processes=plan.processes)
    request = {
        "config": run_config,
        "n_runs": len(plan.configs),
        "processes": plan.processes,
        "size": [size.n_users, size.n_items, size.n_interactions] if size else None,
        "choices": choices,
    }
    reason, measuring = launch_gate(outcome.own_s, outcome.size_known, outcome.pending, dataset)
    if launch and reason and not confirmed:
        st.session_state[ESTIMATE_KEY] = {**request, "refused": reason}  # the box says why
    elif launch:
        run_ids = submit_runs(resources.store(), resources.queue(), [*plan.configs, *plan.controls], plan.processes)
        remember_launched(run_ids, click=True)
        st.toast(t("train.launched", lang, n=len(run_ids)), icon=":material/rocket_launch:")
        if measuring:  # the box follows the measurement until its estimate is in
            st.session_state[ESTIMATE_KEY] = request
            st.info(t("train.launched_measuring", lang), icon=":material/timer:")
    else:
        st.session_state[ESTIMATE_KEY] = request
