"""Train: pick data, split, model and hyperparameters; see the estimate; launch; watch live."""
from __future__ import annotations

import streamlit as st

from app_support import resources, train_form
from app_support.csv_upload import csv_section
from app_support.errors import page_guard, show_error
from app_support.estimates import compute, confirm_over_s, show
from app_support.live import live_runs, remember_launched
from app_support.page_frame import language_sidebar, page_icon
from app_support.session import init_page
from rec_app import estimate as est
from rec_core.errors import RecCoreError
from rec_app.i18n import format_duration, t
from rec_app.launch import build_configs, parse_seeds, submit_runs

lang = init_page("train.title", page_icon("train"))
with page_guard(lang):
    st.title(t("train.title", lang))
    st.caption(t("train.intro", lang))
    with st.spinner(t("train.loading_library", lang)):
        resources.wait_library()  # torch + transformers: seconds, once per server process
    train_form.init_state()
    c1, c2, c3 = st.columns(3)
    dataset = c1.selectbox(t("field.dataset", lang), ["ml-100k", "ml-1m", "synthetic", "csv"], key="tr_dataset",
                           format_func=lambda d: t(f"dataset.{d}", lang))
    split = c2.selectbox(t("field.split", lang), ["ratio", "loo", "cold-items"], key="tr_split",
                         format_func=lambda s: t(f"split.{s}", lang))
    model = c3.selectbox(t("field.model", lang), ["enhanced", "gpt2rec", "mf", "ease", "itemknn", "pop"], key="tr_model",
                         format_func=lambda m: t(f"model.{m}", lang))
    ds_status = {str(d["name"]): d for d in resources.datasets()}.get(dataset)
    if ds_status is not None and ds_status["state"] != "ready":
        st.warning(t("train.dataset_missing", lang, name=dataset))
    csv_data = None
    if dataset == "csv":
        with st.expander(t("csv.title", lang), expanded=True):
    language_sidebar()
            try:
                csv_data = csv_section(resources.store().root, split, lang)
            except Exception as exc:  # noqa: BLE001 - whatever the files are, the rest of the page stays usable
                show_error(exc, lang, "csv.invalid")
    preset = train_form.preset_picker(lang) if model == "enhanced" else ""

    with st.form("train_form", border=True):
        model_section = train_form.model_fields(model, resources.backbones(), lang)
        common = train_form.common_fields(dataset, lang)
        confirm = st.checkbox(t("train.confirm_long", lang, limit=format_duration(confirm_over_s(), lang)),
                              key="tr_confirm_long")
        b1, b2, _ = st.columns([1, 1, 3])
        estimate_clicked = b1.form_submit_button(t("train.estimate", lang))
        launch_clicked = b2.form_submit_button(t("train.launch", lang), type="primary")

    if estimate_clicked or launch_clicked:
        config = train_form.config_dict(dataset, split, model_section, common, preset,
                                        csv_data["data"] if csv_data else None)
        configs = []
        try:
            if dataset == "csv" and csv_data is None:
                raise RecCoreError(t("csv.validate_first", lang))
            seeds = parse_seeds(common["seeds"])
            configs = build_configs(config, seeds, resources.store())
        except RecCoreError as exc:
            show_error(exc, lang, "train.invalid")
        if configs:
            size = est.DatasetSize(*csv_data["size"]) if csv_data else est.dataset_size(config["data"])
            outcome = compute(configs[0].to_dict(), size,
                              measure_if_unknown=estimate_clicked or dataset != "synthetic")
            parallel = resources.queue().max_parallel
            show(outcome, len(seeds), parallel, lang)
            waves = -(-len(seeds) // parallel)
            too_long = outcome.estimate is not None and outcome.estimate.total_s * waves > confirm_over_s()
            unknown = outcome.estimate is None and dataset != "synthetic"
            if launch_clicked and (too_long or unknown) and not confirm:
                st.warning(t("train.needs_confirm" if too_long else "train.needs_confirm_unknown", lang))
            elif launch_clicked:
                run_ids = submit_runs(resources.store(), resources.queue(), configs)
                remember_launched(run_ids)
                st.success(t("train.launched", lang, n=len(run_ids)))

    st.divider()
    live_runs(lang)
