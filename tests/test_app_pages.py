"""The home, Train and Compare pages through Streamlit's AppTest, on a store of real tiny runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rec_core.runs import RunStore

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 120  # the first run of a page imports torch and transformers (seconds on a small CPU)


@pytest.fixture()
def runs(app_runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = app_runs
    monkeypatch.setenv("REC_CORE_RUNS", str(root))
    monkeypatch.setenv("REC_CORE_CACHE", str(tmp_path / "cache"))
    return root


def page(name: str = "app.py", lang: str = "en") -> AppTest:
    """The app with `name` open (pages are switched to, so page links resolve as in a browser)."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    if name != "app.py":
        at.switch_page(name)
    return at.run()


def tiny_mf(at: AppTest, **numbers: int) -> AppTest:
    """Fill the Train form for a tiny MF run on synthetic data (120 users, 90 items), plus the
    number fields `numbers` (widget key without its `tr_` prefix -> value); not run yet."""
    at.selectbox(key="tr_dataset").set_value("synthetic").run()
    at.selectbox(key="tr_model").set_value("mf").run()
    for key, value in {"syn_users": 120, "syn_items": 90, **numbers}.items():
        at.number_input(key=f"tr_{key}").set_value(value)
    return at


def texts(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("markdown", "caption", "info", "warning", "error", "success", "title", "subheader")
        for e in getattr(at, kind)
    ]
    return "\n".join(str(p) for p in parts)


def no_failure(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


# -- home ---------------------------------------------------------------------------------------------
def test_home_shows_data_backbones_and_the_run_table(runs: Path) -> None:
    at = page()
    at.run()  # the backbone list appears once the library's background import is done
    no_failure(at)
    body = texts(at)
    assert "ml-100k" in body and "synthetic" in body and "csv" in body
    assert "minilm" in body and "tiny-gpt2" in body and "gpt2" in body
    table = at.dataframe[0].value
    assert len(table) == 4 and {
        "test NDCG@10",
        "test Hit@10",
        "Best epoch",
        "Seed",
        "Status",
        "Preset",
        "Duration",
    } <= set(table.columns)
    assert set(table["Status"]) == {"done"} and table["test NDCG@10"].between(0, 1).all()
    assert table["Best epoch"].str.fullmatch(r"\d+( \(\w+\))?").all()


def test_language_switch_reaches_every_page(runs: Path) -> None:
    at = page()
    # One switch on Home, the sidebar's, labelled as README says (English / 简体中文; issue 23 minor).
    switches = at.get("segmented_control")
    assert [s.key for s in switches] == ["_lang_sidebar"], [s.key for s in switches]
    assert list(switches[0].options) == ["English", "简体中文"]
    at.sidebar.segmented_control(key="_lang_sidebar").set_value("zh").run()
    no_failure(at)
    assert at.title[0].value == "大模型增强的推荐系统" and at.session_state["lang"] == "zh"
    assert "状态" in at.dataframe[0].value.columns
    at.switch_page("pages/2_Compare.py").run()
    no_failure(at)
    assert at.title[0].value == "对比" and "结论的单位是种子" in texts(at)
    at.switch_page("pages/1_Train.py").run()
    assert at.title[0].value == "训练" and any(b.label == "启动" for b in at.button)


def test_home_keeps_working_with_a_corrupt_run(runs: Path) -> None:
    run_id = sorted(RunStore(runs).run_ids())[0]
    (runs / run_id / "results.json").write_text("{broken")
    (runs / "not-a-run-file.txt").write_text("x")
    at = page()
    no_failure(at)
    assert len(at.dataframe[0].value) == 4 and run_id in texts(at) and "invalid JSON" in texts(at)


# -- train form ---------------------------------------------------------------------------------------
def test_train_form_checks_values_before_anything_is_written(runs: Path) -> None:
    at = page("pages/1_Train.py")
    no_failure(at)
    before = set(RunStore(runs).run_ids())
    assert "Scheme 1" in str(at.segmented_control(key="tr_preset").options)
    at.number_input(key="tr_n_heads").set_value(3)
    button(at, "Launch").click().run()
    assert any("n_heads" in e.value for e in at.error), [e.value for e in at.error]
    at.number_input(key="tr_n_heads").set_value(4)
    at.text_input(key="tr_seeds").set_value("0, zero")
    button(at, "Launch").click().run()
    assert any("seeds" in e.value for e in at.error)
    at.text_input(key="tr_seeds").set_value("0")
    at.toggle(key="tr_use_peft").set_value(True)  # LoRA with cached features: a cross-field rule
    button(at, "Estimate duration").click().run()
    assert any("use_peft" in e.value for e in at.error)
    assert set(RunStore(runs).run_ids()) == before


def test_presets_set_the_switches_and_stay_editable(runs: Path) -> None:
    at = page("pages/1_Train.py")
    at.segmented_control(key="tr_preset").set_value("scheme2").run()
    assert at.toggle(key="tr_use_cache").value is False and at.toggle(key="tr_use_peft").value is True
    assert at.number_input(key="tr_contrastive_weight").value == pytest.approx(0.1)
    at.toggle(key="tr_use_attention").set_value(False)
    button(at, "Estimate duration").click().run()  # form values apply on submit
    assert "custom configuration" in texts(at)
    at.segmented_control(key="tr_preset").set_value("scheme1").run()
    assert at.toggle(key="tr_use_cache").value is True and at.number_input(key="tr_cached_epochs").value == 0


@pytest.mark.parametrize(("model", "key", "bad"), [("ease", "tr_l2_grid", "0"), ("itemknn", "tr_k_grid", "5, x")])
def test_closed_form_models_show_their_grids_and_check_them(runs: Path, model: str, key: str, bad: str) -> None:
    at = page("pages/1_Train.py")
    at.selectbox(key="tr_model").set_value(model).run()
    no_failure(at)
    assert "do not apply" in texts(at) and at.text_input(key=key).value
    button(at, "Estimate duration").click().run()
    no_failure(at)
    at.text_input(key=key).set_value(bad)
    button(at, "Estimate duration").click().run()
    assert any(key.removeprefix("tr_") in e.value for e in at.error), [e.value for e in at.error]


CSV_OK = b"user,item,rating,time\nu1,i1,5,100\nu1,i2,3,200\nu2,i1,4,150\nu2,i3,2,160\nu3,i2,5,170\nu3,i3,1,180\n"


def csv_page(runs: Path) -> AppTest:
    at = page("pages/1_Train.py")
    at.selectbox(key="tr_dataset").set_value("csv").run()
    no_failure(at)
    return at


def upload(at: AppTest, key: str, name: str, data: bytes) -> AppTest:
    at.file_uploader(key=key).set_value((name, data, "text/csv"))
    return at.run()


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"csv_inter_file": b""}, "is empty"),
        ({"csv_inter_file": "user,item,rating\nu1,é1,5\n".encode("latin-1")}, "not UTF-8"),
        ({"csv_inter_file": b"user,item,rating\nu1,i1,five\nu2,i1,4\n"}, "not a number"),
        ({"csv_inter_file": CSV_OK, "csv_items_file": b"item,title\ni1,Alpha\n"}, "plot"),
    ],
)
def test_bad_csv_files_get_a_clear_message(runs: Path, files: dict[str, bytes], expected: str) -> None:
    at = csv_page(runs)
    for key, data in files.items():
        at = upload(at, key, key.replace("_file", ".csv").replace("csv_", ""), data)
    if "csv_items_file" in files:
        at.text_input(key="csv_item_template").set_value("{title}: {plot}")
    if expected != "is empty":
        button(at, "Check the files").click().run()
    assert any(expected in e.value for e in at.error), [e.value for e in at.error]
    assert not at.exception and not (runs / ".uploads").exists()
    button(at, "Launch").click().run()  # still refused: the files never passed
    assert any("Check the CSV files first" in e.value for e in at.error)


def test_a_valid_csv_with_unknown_ids_is_accepted_with_warnings(runs: Path) -> None:
    at = csv_page(runs)
    at = upload(at, "csv_inter_file", "ratings.csv", CSV_OK)
    at = upload(
        at, "csv_items_file", "movies.csv", b"item,title,genres\ni1,Alpha,Action\ni2,Beta,Drama\ni9,Zeta,Horror\n"
    )
    assert at.selectbox(key="csv_rating_col").value == "rating" and at.selectbox(key="csv_time_col").value == "time"
    button(at, "Check the files").click().run()
    no_failure(at)
    assert any("3 users, 3 items, 6 interactions" in s.value for s in at.success)
    warnings = " ".join(w.value for w in at.warning)
    assert "no interactions" in warnings and "not in movies.csv" in warnings  # i9 unused, i3 without text
    stored = list((runs / ".uploads").rglob("*.csv"))
    assert len(stored) == 2 and RunStore(runs).run_ids() and len(RunStore(runs).run_ids()) == 4


# -- compare ------------------------------------------------------------------------------------------
def test_compare_shows_table_tests_words_and_exports(runs: Path) -> None:
    at = page("pages/2_Compare.py")
    no_failure(at)
    table = at.dataframe[0].value
    groups = table[table["Model"] != "Random ranking (expected)"]
    assert len(groups) == 2 and "±" in groups["test NDCG@10"].iloc[0] and set(groups["Runs"]) == {2}
    # The random reference row (mean over the reference's seeds), once the runs record it.
    random_row = table[table["Model"] == "Random ranking (expected)"]
    assert len(random_row) <= 1 and (random_row.empty or float(random_row["test NDCG@10"].iloc[0]) > 0)
    body = texts(at)
    assert "significant at 0.05 after Holm" in body and "paired users" in body and "2 seed(s)" in body
    assert "t-test over seeds" in body  # the verdict names the method it rests on
    labels = at.dataframe[1].value  # short label -> full name (in an expander)
    assert list(labels.columns) == ["Model", "Full name", "Runs"] and len(labels) == 2
    assert all(len(short) <= len(full) for short, full in zip(labels["Model"], labels["Full name"]))
    weights = at.dataframe[2].value  # which weights each run tested (in an expander)
    assert {"Seed", "Best epoch", "Phase", "How the run ended"} <= set(weights.columns) and len(weights) == 4
    assert set(weights["Phase"]) <= {"train", "cached", "dynamic"}  # every run of the store records its phase
    diffs = at.dataframe[3].value
    assert {"95% CI", "p", "p (Holm)", "Test", "Verdict", "Seeds needed", "× random"} <= set(diffs.columns)
    assert len(diffs) == 4 and set(diffs["Verdict"]) <= {
        "↑ improvement (significant)",
        "↓ worse (significant)",
        "inconclusive",
    }
    assert "Differences to MF (BPR)" in body  # the ID-only baseline is the reference
    assert at.toggle(key="cmp_stopped").value is False  # stopped runs only on request
    labels = {b.label for b in at.download_button} if hasattr(at, "download_button") else set()
    assert {"Table as CSV", "Table as LaTeX", "All figures (PNG + SVG)"} <= labels
    charts = at.get("plotly_chart")
    assert len(charts) == 4  # metrics, item segments, user segments, training curves
    at.segmented_control(key="cmp_k").set_value("all").run()
    assert len(at.dataframe[0].value.columns) == 2 + 12 and len(at.dataframe[3].value) == 12
    at.toggle(key="cmp_presentation").set_value(True).run()
    no_failure(at)
    at.toggle(key="cmp_stopped").set_value(True).run()  # stopped runs on request (none here)
    no_failure(at)


def test_compare_single_runs_and_chinese(runs: Path) -> None:
    at = page("pages/2_Compare.py", lang="zh")
    at.segmented_control(key="cmp_mode").set_value("runs").run()
    no_failure(at)
    # Single runs pair up only within a seed: the page opens on the newest run's seed alone.
    opened = at.multiselect(key="cmp_sel").value
    assert len(opened) == 2 and len({k.split("-s")[-1].split("-")[0] for k in opened}) == 1, opened
    assert "测试集 命中率@10" in at.dataframe[0].value.columns and "结论" in at.dataframe[3].value.columns
    # Without a baseline among the selected the page does not pick one (by recency or otherwise).
    enhanced = [k for k in at.multiselect(key="cmp_sel").value if k.startswith("enhanced")]
    assert enhanced
    at.multiselect(key="cmp_sel").set_value(enhanced).run()
    no_failure(at)
    assert at.selectbox(key="cmp_ref").value is None and "所选模型中没有" in texts(at)


def test_compare_survives_corrupt_and_deleted_runs(runs: Path) -> None:
    at = page("pages/2_Compare.py")
    no_failure(at)
    ids = sorted(RunStore(runs).run_ids())
    shutil.rmtree(runs / ids[0])  # deleted while the page shows it
    (runs / ids[1] / "tables" / "per_user_test.parquet").write_bytes(b"not parquet")
    at.run()
    assert not at.exception
    assert (
        any("cannot be compared" in w.value or "unreadable" in w.value for w in at.warning)
        or len(at.dataframe[0].value) <= 2
    )
    (runs / ids[2] / "results.json").write_text("{")
    at.run()
    assert not at.exception


def test_compare_with_an_empty_store_points_to_train(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REC_CORE_RUNS", str(tmp_path / "empty"))
    at = page("pages/2_Compare.py")
    no_failure(at)
    assert "No finished run" in texts(at)


def test_train_form_warm_start_refuses_a_seed_without_its_mf_run(runs: Path) -> None:
    at = page("pages/1_Train.py")
    at.selectbox(key="tr_model").set_value("enhanced").run()
    no_failure(at)
    before = set(RunStore(runs).run_ids())
    at.toggle(key="tr_warm_start").set_value(True)
    at.number_input(key="tr_gate_init").set_value(0.0)
    at.text_input(key="tr_seeds").set_value("7")  # the store has no MF run of seed 7
    button(at, "Launch").click().run()
    assert not at.exception  # a clear message, no traceback
    assert any("init_from_run" in e.value and "seed 7" in e.value for e in at.error), [e.value for e in at.error]
    assert set(RunStore(runs).run_ids()) == before
    assert at.number_input(key="tr_gate_init").value == 0.0


def test_train_form_keeps_the_mf_part_fixed_only_with_a_warm_start(runs: Path) -> None:
    at = page("pages/1_Train.py")
    at.selectbox(key="tr_model").set_value("enhanced").run()
    at.segmented_control(key="tr_preset").set_value("scheme1").run()  # ratio opens on the warm recipe
    no_failure(at)
    # Without a warm start the switch shows off and cannot be used (issue 23 item 8) ...
    shown = next(w for w in at.toggle if w.label == "Keep the MF part fixed")
    assert shown.value is False and shown.disabled
    assert not [w for w in at.toggle if w.key == "tr_freeze_mf"]
    button(at, "Estimate duration").click().run()  # checks the whole config, launches nothing
    assert not at.error, [e.value for e in at.error]
    at.toggle(key="tr_warm_start").set_value(True).run()
    # ... and with one it follows at once, before any submit: on by default, usable.
    assert at.toggle(key="tr_freeze_mf").value is True and not at.toggle(key="tr_freeze_mf").disabled
    at.text_input(key="tr_seeds").set_value("7")  # no MF run of seed 7: the warm start is what is refused
    button(at, "Launch").click().run()
    errors = [e.value for e in at.error]
    assert any("init_from_run" in e for e in errors) and not any("freeze_mf" in e for e in errors), errors
