"""Train: pick data, split, model and hyperparameters; see the estimate; launch; watch live."""

from __future__ import annotations

import streamlit as st

from rec_app.ui import resources
from rec_app.ui import train_form
from rec_app.ui.csv_upload import csv_section
from rec_app.ui.errors import page_guard, show_error
from rec_app.ui.estimates import compute, show
from rec_app.ui.live import live_runs, remember_launched
from rec_app.ui.page_frame import language_sidebar, page_icon
from rec_app.ui.session import init_page
from rec_app.estimate import profiles as est
from rec_app.train.datasets import availability
from rec_app.train.form_checks import check_backbone_depth
from rec_app.i18n import format_duration, t
from rec_app.train.launch import (
    build_configs,
    check_launch_processes,
    control_configs,
    parse_seeds,
    submit_runs,
    warm_start_sources,
)
from rec_core.errors import RecCoreError

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
            request["config"],
            size,
            request["n_runs"],
            measure_if_unknown=False,
            processes=request.get("processes", 1),
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


lang = init_page("train.title", page_icon("train"))
with page_guard(lang):
    language_sidebar()
    st.title(t("train.title", lang))
    st.caption(t("train.intro", lang))
    with st.spinner(t("train.loading_library", lang)):
        resources.wait_library()  # torch + transformers: seconds, once per server process
    train_form.init_state()
    c1, c2, c3 = st.columns(3)
    dataset = c1.selectbox(
        t("field.dataset", lang),
        ["ml-100k", "ml-1m", "synthetic", "csv"],
        key=train_form.keep("tr_dataset"),
        format_func=lambda d: t(f"dataset.{d}", lang),
    )
    split = c2.selectbox(
        t("field.split", lang),
        ["ratio", "loo", "cold-items"],
        key=train_form.keep("tr_split"),
        format_func=lambda s: t(f"split.{s}", lang),
    )
    model = c3.selectbox(
        t("field.model", lang),
        ["enhanced", "gpt2rec", "mf", "ease", "itemknn", "pop"],
        key=train_form.keep("tr_model"),
        format_func=lambda m: t(f"model.{m}", lang),
    )
    ds_status = {str(d["name"]): d for d in resources.datasets()}.get(dataset)
    if ds_status is not None and availability(ds_status) != "ready":
        st.warning(t(f"train.dataset_{availability(ds_status)}", lang, name=dataset, path=ds_status.get("path")))
    csv_data = None
    if dataset == "csv":
        with st.expander(t("csv.title", lang), expanded=True):
            try:
                csv_data = csv_section(resources.store().root, split, lang)
            except Exception as exc:  # noqa: BLE001 - whatever the files are, the rest of the page stays usable
                show_error(exc, lang, "csv.invalid")
    preset = train_form.preset_picker(lang, split) if model == "enhanced" else ""
    warm = train_form.warm_start_toggle(model, lang)

    with st.form("train_form", border=True):
        model_section = train_form.model_fields(model, resources.backbones(), lang, warm)
        with_control = train_form.control_toggle(model, lang, warm)
        common = train_form.common_fields(dataset, lang)
        confirm = st.checkbox(
            t("train.confirm_long", lang, limit=format_duration(est.confirm_over_s(), lang)), key="tr_confirm_long"
        )
        b1, b2, _ = st.columns([1, 1, 3])
        estimate_clicked = b1.form_submit_button(t("train.estimate", lang))
        launch_clicked = b2.form_submit_button(t("train.launch", lang), type="primary")

    choices = [dataset, split, model, preset]
    if (st.session_state.get(ESTIMATE_KEY) or {}).get("choices") != choices:
        st.session_state.pop(ESTIMATE_KEY, None)  # an estimate of other choices no longer applies
    if estimate_clicked or launch_clicked:
        st.session_state.pop(ESTIMATE_KEY, None)
        configs, controls, sources = [], [], {}
        try:
            config = train_form.config_dict(
                dataset,
                split,
                model_section,
                common,
                preset,
                csv_data["data"] if csv_data else None,
                train_form.hidden_preset_fields(model_section),
            )
            check_backbone_depth(config["model"], resources.backbones())
            if dataset == "csv" and csv_data is None:
                raise RecCoreError(t("csv.validate_first", lang))
            seeds = parse_seeds(common["seeds"])
            processes = check_launch_processes(common["processes"])
            configs = build_configs(config, seeds, resources.store())
            sources = warm_start_sources(configs, resources.store())
            controls = control_configs(configs, resources.store()) if with_control else []
        except RecCoreError as exc:
            configs = []
            show_error(exc, lang, "train.invalid")
        if sources:  # which MF run each seed starts from (and its control with it)
            st.caption(t("train.warm_sources", lang, runs=", ".join(f"{s} → `{r}`" for s, r in sources.items())))
        if configs:
            size = est.DatasetSize(*csv_data["size"]) if csv_data else est.dataset_size(config["data"])
            run_config = configs[0].to_dict()
            outcome = compute(
                run_config,
                size,
                len(configs),
                measure_if_unknown=estimate_clicked or dataset != "synthetic",
                processes=processes,
            )
            request = {
                "config": run_config,
                "n_runs": len(configs),
                "processes": processes,
                "size": [size.n_users, size.n_items, size.n_interactions] if size else None,
                "choices": choices,
            }
            reason = est.needs_confirmation(outcome.own_s, dataset) if outcome.size_known else None
            measuring = reason == "unknown" and outcome.pending
            if measuring:
                reason = None  # measured in the background meanwhile: Launch does not wait for it
            if launch_clicked and reason and not confirm:
                st.session_state[ESTIMATE_KEY] = {**request, "refused": reason}  # the box says why
            elif launch_clicked:
                run_ids = submit_runs(resources.store(), resources.queue(), [*configs, *controls], processes)
                remember_launched(run_ids, click=True)
                st.toast(t("train.launched", lang, n=len(run_ids)), icon=":material/rocket_launch:")
                if measuring:  # the box follows the measurement until its estimate is in
                    st.session_state[ESTIMATE_KEY] = request
                    st.info(t("train.launched_measuring", lang), icon=":material/timer:")
            else:
                st.session_state[ESTIMATE_KEY] = request
    estimate_box(lang)

    st.divider()
    live_runs(lang)
