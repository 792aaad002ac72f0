"""The Train page through AppTest: form values that survive pages and model switches, CSV
uploads that fail with one sentence, feasibility before launch, errors with on-screen labels,
and rows of the live panel that name their seed and state (issue 11, Train and CSV items)."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_store import copy_store
from tests.test_app_pages import button, no_failure, page, texts


@pytest.fixture()
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the app tests' store of real tiny runs, and a private text cache."""
    root = copy_store(tmp_path)
    monkeypatch.setenv("REC_CORE_RUNS", str(root))
    monkeypatch.setenv("REC_CORE_CACHE", str(tmp_path / "cache"))
    return root


def submit(at: AppTest) -> AppTest:
    """Commit the form's values (a form applies them on submit) without launching anything."""
    return button(at, "Estimate duration").click().run()


# -- 1. the form keeps its values -----------------------------------------------------------------
def test_form_values_survive_leaving_the_page_and_coming_back(runs: Path) -> None:
    at = page("pages/1_Train.py")
    at.selectbox(key="tr_model").set_value("mf").run()
    at.number_input(key="tr_epochs").set_value(7)
    at.number_input(key="tr_lr").set_value(0.005)
    at.number_input(key="tr_batch_size").set_value(1024)
    at.text_input(key="tr_seeds").set_value("0, 1, 2")
    submit(at)
    at.switch_page("pages/2_Compare.py").run()
    no_failure(at)
    at.switch_page("app.py").run()
    at.switch_page("pages/1_Train.py").run()
    no_failure(at)
    assert at.selectbox(key="tr_model").value == "mf"
    assert at.number_input(key="tr_epochs").value == 7
    assert at.number_input(key="tr_lr").value == pytest.approx(0.005)
    assert at.number_input(key="tr_batch_size").value == 1024
    assert at.text_input(key="tr_seeds").value == "0, 1, 2"


def test_enhanced_fields_survive_a_model_switch_and_reruns(runs: Path) -> None:
    at = page("pages/1_Train.py")
    at.selectbox(key="tr_model").set_value("enhanced").run()
    at.number_input(key="tr_max_length").set_value(48)
    at.number_input(key="tr_n_heads").set_value(8)
    at.number_input(key="tr_lora_rank").set_value(16)
    submit(at)
    at.selectbox(key="tr_model").set_value("mf").run()
    at.run()
    at.selectbox(key="tr_model").set_value("enhanced").run()
    no_failure(at)
    assert at.number_input(key="tr_max_length").value == 48
    assert at.number_input(key="tr_n_heads").value == 8
    assert at.number_input(key="tr_lora_rank").value == 16
    assert at.number_input(key="tr_embed_dim").value == 64  # never dropped to its minimum


def test_a_preset_sets_every_field_it_names_after_coming_back(runs: Path) -> None:
    from rec_core.models.enhanced import PRESETS

    at = page("pages/1_Train.py")
    at.selectbox(key="tr_model").set_value("enhanced").run()
    at.segmented_control(key="tr_preset").set_value("scheme2").run()
    at.switch_page("pages/2_Compare.py").run()
    at.switch_page("pages/1_Train.py").run()
    no_failure(at)
    assert at.segmented_control(key="tr_preset").value == "scheme2"
    at.segmented_control(key="tr_preset").set_value("scheme3").run()
    for field, value in PRESETS["scheme3"].items():
        widget = at.toggle(key=f"tr_{field}") if isinstance(value, bool) else at.number_input(key=f"tr_{field}")
        assert widget.value == pytest.approx(value), field
    assert "custom configuration" not in texts(at)
