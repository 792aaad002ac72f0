"""Train: pick data, split, model and hyperparameters; see the estimate; launch; watch live."""

from __future__ import annotations

import streamlit as st

from rec_app import estimate as est
from rec_app.i18n import format_duration, t
from rec_app.train.datasets import availability
from rec_app.ui import resources, train_form
from rec_app.ui.csv_upload import csv_section
from rec_app.ui.errors import page_guard, show_error
from rec_app.ui.launch_panel import estimate_box, estimate_or_launch, forget_other_choices, plan_or_error
from rec_app.ui.live import live_runs
from rec_app.ui.page_frame import language_sidebar, page_icon
from rec_app.ui.session import init_page


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
    forget_other_choices(choices)  # an estimate of other choices no longer applies
    if estimate_clicked or launch_clicked:
        plan = plan_or_error(
            lambda: train_form.config_dict(
                dataset,
                split,
                model_section,
                common,
                preset,
                csv_data["data"] if csv_data else None,
                train_form.hidden_preset_fields(model_section),
            ),
            common,
            lang,
            with_control=with_control,
            csv_pending=dataset == "csv" and csv_data is None,
        )
        if plan is not None:
            size = est.DatasetSize(*csv_data["size"]) if csv_data else est.dataset_size(plan.base["data"])
            estimate_or_launch(plan, size, choices, lang, launch=launch_clicked, confirmed=confirm)
    estimate_box(lang)

    st.divider()
    live_runs(lang)
