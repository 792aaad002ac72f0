"""Figures (labels, styles, slide export with CJK fonts) and the duration estimate."""

from __future__ import annotations

import json
import os
import shutil
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import pytest

from rec_app import estimate as est
from rec_app.estimate import observed as observed_runs
from rec_app.compare.groups import group_runs
from rec_app.compare.table import summary_table
from rec_app.figures import FONT_FAMILY, SLIDE, Style, chart_config, export_images, metric_bars, training_curves
from rec_app.runs.table import list_rows
from rec_core.runs import RunStore, write_json_atomic
from rec_core.runs.environment import process_start_token
from tests.app_store import tiny_config


@pytest.fixture()
def store(app_runs: Path) -> RunStore:
    return RunStore(app_runs)


def _chromium() -> str:
    found = os.environ.get("BROWSER_PATH") or shutil.which("chromium")
    if not found:
        message = "chromium is needed to export figures (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


# -- figures ------------------------------------------------------------------------------------------
def test_bars_have_error_bars_labels_in_the_language_and_a_cjk_font(store: RunStore) -> None:
    summary = summary_table(group_runs(list_rows(store)))
    fig = metric_bars(summary, ["hit@10", "ndcg@10"], Style("zh"))
    assert len(fig.data) == 2 and list(fig.data[0].x) == ["命中率@10", "NDCG@10"]
    first = summary.iloc[0]
    assert list(fig.data[0].error_y.array) == pytest.approx([first["hit@10 std"], first["ndcg@10 std"]])
    assert fig.layout.font.family == FONT_FAMILY and "Noto Sans CJK SC" in FONT_FAMILY
    assert fig.layout.title.text == "测试指标"


def test_presentation_mode_enlarges_fonts_and_lines(store: RunStore) -> None:
    histories = {r.name: store.get(r.run_id).history() for r in list_rows(store)}
    normal, big = training_curves(histories, Style("en")), training_curves(histories, Style("en", presentation=True))
    assert big.layout.font.size > normal.layout.font.size
    assert big.data[0].line.width > normal.data[0].line.width and big.layout.height > normal.layout.height
    # Several runs: one legend entry per run (total loss), the metric panel shares it.
    assert sum(1 for tr in normal.data if tr.showlegend is not False) == len(histories)
    # A run whose loss is BPR alone: its BPR curve equals the total and is not drawn twice.
    bpr_only = [
        {"epoch": e, "loss": {"bpr": 1.0 / e, "total": 1.0 / e}, "valid": {"ndcg@10": 0.1 * e}} for e in (1, 2, 3)
    ]
    one = training_curves({"run": bpr_only}, Style("en"))
    assert {tr.name for tr in one.data} == {"total loss", "NDCG@10"}  # bpr alone equals the total
    parts = [
        {"epoch": e, "loss": {"bpr": 1.0 / e, "contrastive": 2.0 / e, "total": 1.2 / e}, "valid": {"ndcg@10": 0.1 * e}}
        for e in (1, 2, 3)
    ]
    named = {tr.name for tr in training_curves({"run": parts}, Style("zh")).data}
    assert named == {"BPR 损失", "对比损失", "总损失", "NDCG@10"}


def test_the_reg_loss_part_is_named_and_one_epoch_gets_an_axis_around_it() -> None:
    # issue 23 minors: the legend said "reg"; one point was drawn on a -0.5..1 epoch axis.
    history = [{"epoch": 1, "loss": {"bpr": 0.6, "reg": 0.01, "total": 0.61}, "valid": {"ndcg@10": 0.05}}]
    for lang, reg in (
        ("en", "L2 penalty on the MF embeddings (reg_weight)"),
        ("zh", "MF 嵌入的 L2 惩罚（reg_weight）"),
    ):
        fig = training_curves({"run": history}, Style(lang))
        assert reg in {tr.name for tr in fig.data}
        assert "reg" not in {tr.name for tr in fig.data}
        assert tuple(fig.layout.xaxis.range) == (0.5, 1.5) and tuple(fig.layout.xaxis2.range) == (0.5, 1.5)
        assert fig.layout.xaxis.dtick == 1


def test_toolbar_exports_at_slide_resolution() -> None:
    for fmt in ("png", "svg"):
        options = chart_config("metrics", fmt)["toImageButtonOptions"]
        assert options == {"format": fmt, "filename": "metrics", "width": 1600, "height": 900, "scale": 2}
    with pytest.raises(ValueError):
        chart_config("x", "jpeg")


@pytest.mark.slow
def test_export_renders_png_and_svg_with_chinese_labels(store: RunStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROWSER_PATH", _chromium())
    summary = summary_table(group_runs(list_rows(store)))
    images = export_images({"bars": metric_bars(summary, ["hit@10"], Style("zh"))})
    png, svg = images["bars.png"], images["bars.svg"].decode("utf-8")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (SLIDE["width"] * SLIDE["scale"], SLIDE["height"] * SLIDE["scale"])
    assert "<svg" in svg and "命中率@10" in svg and "Noto Sans CJK SC" in svg


class _FlakyKaleido:
    """Stands in for `kaleido.Kaleido`: its first `fail` browsers start with the page not ready."""

    started = 0

    def __init__(self, fail: int, message: str) -> None:
        self.fail, self.message = fail, message

    def __call__(self, **_kw: object) -> _FlakyKaleido:
        type(self).started += 1
        return self

    async def __aenter__(self) -> _FlakyKaleido:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        return None

    async def calc_fig(self, fig: object, opts: dict[str, Any]) -> bytes:
        if type(self).started <= self.fail:
            raise RuntimeError(self.message)
        return f"image.{opts['format']}".encode()


@pytest.mark.parametrize(
    ("fail", "message", "ok"),
    [
        (0, "", True),
        (2, "ReferenceError: kaleido_scopes is not defined", True),  # the start-up race: retried
        (3, "ReferenceError: kaleido_scopes is not defined", False),  # not forever
        (1, "Error 525: plotly.js failed", False),  # a real error: reported at once
    ],
)
def test_export_starts_a_fresh_browser_only_when_its_page_was_not_ready(
    monkeypatch: pytest.MonkeyPatch, fail: int, message: str, ok: bool
) -> None:
    import kaleido

    fake = _FlakyKaleido(fail, message)
    _FlakyKaleido.started = 0
    monkeypatch.setattr(kaleido, "Kaleido", fake)
    figures = {"a": go.Figure(), "b": go.Figure()}
    if ok:
        assert export_images(figures) == {f"{n}.{f}": f"image.{f}".encode() for n in "ab" for f in ("png", "svg")}
        assert _FlakyKaleido.started == fail + 1
    else:
        with pytest.raises(RuntimeError, match="figure export failed"):
            export_images(figures)
        assert _FlakyKaleido.started == min(fail, 3)


# -- estimate -----------------------------------------------------------------------------------------
def test_dataset_sizes() -> None:
    assert est.dataset_size({"name": "ml-100k"}) == est.DatasetSize(943, 1682, 100_000)
    assert (
        est.dataset_size(
            {"name": "synthetic", "synthetic_users": 10, "synthetic_items": 20, "synthetic_interactions_per_user": 5}
        ).n_interactions
        == 50
    )
    assert est.dataset_size({"name": "csv"}) is None


def _reader(store: RunStore) -> Callable[[str], tuple[Any, Any, Any]]:
    """What `observed_profile` reads of a run: its results, its history and its status."""
    return lambda rid: (store.get(rid).results(), store.get(rid).history(), store.get(rid).raw_status())


def test_estimate_from_finished_runs_matches_their_measured_time(store: RunStore) -> None:
    rows = list_rows(store)
    mf = next(r for r in rows if r.model == "mf")
    profile, n = observed_runs.observed_profile(mf.config, rows, _reader(store))
    assert n == 2 and profile.epoch_s["train"] > 0 and profile.valid_s["train"] > 0
    size = est.dataset_size(mf.config["data"])
    e = est.estimate(mf.config, size, profile, cache_warm=True, startup_s=0.0)
    measured = sum(h["seconds"] + h.get("eval_seconds", 0) for h in store.get(mf.run_id).history())
    assert e.basis == "runs" and e.same_data and e.parts["encoding"] == 0.0
    assert measured / 4 < e.parts["training"] + e.parts["evaluation"] < measured * 4
    # Ten times the epochs: ten times the training part.
    longer = json.loads(json.dumps(mf.config))
    longer["train"]["epochs"] *= 10
    assert est.estimate(longer, size, profile, cache_warm=True).parts["training"] == pytest.approx(
        10 * e.parts["training"]
    )


def test_text_cache_warmth_and_encoding_cost(store: RunStore) -> None:
    rows = list_rows(store)
    enh = next(r for r in rows if r.model == "enhanced")
    assert observed_runs.cache_likely_warm(enh.config, rows)
    other = json.loads(json.dumps(enh.config))
    other["data"]["synthetic_users"] = 500
    assert not observed_runs.cache_likely_warm(other, rows)
    profile, _ = observed_runs.observed_profile(other, rows, _reader(store))  # same cost settings, other data: scaled
    cold = est.estimate(other, est.dataset_size(other["data"]), profile, cache_warm=False)
    warm = est.estimate(other, est.dataset_size(other["data"]), profile, cache_warm=True)
    assert cold.parts["encoding"] >= warm.parts["encoding"] == 0 and not warm.same_data
    unknown = json.loads(json.dumps(enh.config))
    unknown["model"]["embed_dim"] = 32
    assert observed_runs.observed_profile(unknown, rows, _reader(store)) is None  # never ran: no made-up number


@pytest.mark.slow
def test_calibration_runs_in_the_background_on_the_runs_dataset_and_is_cached(tmp_path: Path) -> None:
    from rec_app.estimate import calibration as cal

    config = tiny_config("enhanced", 0, epochs=2).to_dict()
    assert cal.calibrated(config, tmp_path) is None
    assert cal.start_measurement(tmp_path, config)
    deadline = time.monotonic() + 240
    while cal.calibrated(config, tmp_path) is None:
        assert time.monotonic() < deadline, (tmp_path / ".calibration.log").read_text(errors="replace")
        assert cal.calibration_error(config, tmp_path) is None, cal.calibration_error(config, tmp_path)
        time.sleep(0.5)
    profile, when = cal.calibrated(config, tmp_path)
    size = est.dataset_size(config["data"])
    assert (profile.n_users, profile.n_items) == (size.n_users, size.n_items)  # measured on the run's own data
    assert profile.epoch_s["cached"] > 0 and profile.valid_s["cached"] > 0 and profile.test_s > 0
    assert profile.startup_s and profile.startup_s > 0 and when
    e = est.estimate(config, size, profile, cache_warm=True, basis="calibration")
    assert e.same_data and e.total_s > e.parts["startup"] > 0
    assert not list(tmp_path.glob(".calibration-*.pending"))
    # While a measurement of the same settings runs (a live process in its pending file: this
    # one, so the check does not race a real measurement's end), another is refused.
    pending = cal._pending_file(tmp_path, config)
    write_json_atomic(pending, {"pid": os.getpid(), "start": process_start_token(os.getpid())})
    assert cal.measurement_pending(tmp_path, config)
    assert cal.start_measurement(tmp_path, config) is False
    pending.unlink()
    assert not cal.measurement_pending(tmp_path, config)


def test_a_rough_estimate_from_the_benchmarks_scales_with_epochs_data_and_model() -> None:
    """Issue 23 item 6: before this machine has measured anything, Launch gets a rough number."""
    from rec_app import estimate as est

    def rough(model: dict, epochs: int, data: str = "ml-100k") -> float:
        config = {"model": model, "train": {"epochs": epochs, "patience": 0}, "data": {"name": data}, "split": {}}
        size = est.dataset_size(config["data"])
        assert size is not None
        found = est.estimate(config, size, est.prior_profile(config), cache_warm=True, basis="prior")
        assert found.basis == "prior" and found.total_s > 0
        return found.total_s

    mf = {"name": "mf"}
    assert rough(mf, 40) > rough(mf, 20)
    assert rough(mf, 20, "ml-1m") > 5 * rough(mf, 20)  # about ten times the interactions
    cached = {"name": "enhanced", "use_cache": True}
    assert rough(cached, 20) > rough(mf, 20)
    dynamic = {"name": "enhanced", "use_cache": False, "use_peft": True, "freeze_gpt2": False}
    assert rough(dynamic, 1) > 60  # a dynamic epoch on CPU costs minutes
