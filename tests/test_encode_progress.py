"""Text encoding progress (issue 11, item 3): `TextEncoder.encode` reports texts done of the
total, the cache and `encode_table` pass the callback through, a run writes the encoding phase's
counts, rate and ETA into status.json, the CLI draws a bar of texts and the live panel says it."""

from __future__ import annotations

import io
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any

import pytest

from rec_core import run_progress
from rec_core.data.interactions import TextTable
from rec_core.experiment import execute_run, start_run
from rec_core.models.text_features import encode_table
from rec_core.progress import ConsoleProgress
from rec_core.runs import RunStore
from rec_core.text import TINY_GPT2, FeatureCache, TextEncoder, TextEncoderConfig
from rec_core.text.encoder import encoding_progress
from tests.app_store import tiny_config
from tests.helpers import SAMPLE_TEXTS

TEXTS = SAMPLE_TEXTS * 2 + ["one more"]  # 13 texts: 7 batches of 2, the last one short


@pytest.fixture(scope="module")
def tiny() -> TextEncoder:
    return TextEncoder(TextEncoderConfig(backbone=TINY_GPT2, max_length=32, batch_size=2))


def _recorder() -> tuple[list[tuple[int, int]], Any]:
    calls: list[tuple[int, int]] = []
    return calls, lambda done, total: calls.append((done, total))


def test_encode_reports_increasing_counts_ending_at_the_total(tiny: TextEncoder) -> None:
    calls, report = _recorder()
    out = tiny.encode(TEXTS, progress=report)
    n = len(TEXTS)
    assert len(out) == n
    assert calls[0] == (0, n) and calls[-1] == (n, n)
    assert {total for _, total in calls} == {n}
    done = [d for d, _ in calls]
    assert done == sorted(set(done)), "strictly increasing"
    assert done[1:] == [2, 4, 6, 8, 10, 12, 13]  # after every batch of 2
    calls.clear()
    tiny.encode([], progress=report)
    assert calls == [(0, 0)]


def test_the_ambient_listener_hears_encodes_without_their_own(tiny: TextEncoder) -> None:
    ambient, listen = _recorder()
    own, report = _recorder()
    with encoding_progress(listen):
        tiny.encode(TEXTS[:3])
        tiny.encode(TEXTS[:4], progress=report)  # its own callback wins
    tiny.encode(TEXTS[:2])  # outside the block: nobody listens
    assert ambient == [(0, 3), (2, 3), (3, 3)]
    assert own == [(0, 4), (2, 4), (4, 4)]


def test_cache_and_encode_table_pass_it_through(tiny: TextEncoder, tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path / "features")
    calls, report = _recorder()
    _, hit = cache.get_or_encode(tiny, TEXTS, keep_states=False, progress=report)
    assert not hit and calls[-1] == (len(TEXTS), len(TEXTS))
    calls.clear()
    _, hit = cache.get_or_encode(tiny, TEXTS, keep_states=False, progress=report)
    assert hit and calls == []  # loaded: nothing encoded
    table = TextTable(tuple(TEXTS[:5]), tuple(() for _ in range(5)))
    _, hit = encode_table(tiny, table, None, cache, progress=report)
    assert not hit and calls[0] == (0, 5) and calls[-1] == (5, 5)


def test_a_run_writes_the_encoding_phase_into_its_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REC_CORE_CACHE", str(tmp_path / "cold-cache"))  # cold: the texts are encoded
    monkeypatch.setattr(run_progress, "STEP_STATUS_S", 0.0)  # every batch written (the default: once a second)
    run = start_run(tiny_config("enhanced", 0, epochs=1), RunStore(tmp_path / "runs"))
    writes: list[dict[str, Any]] = []
    set_status = run.set_status

    def spy_status(*args: Any, **fields: Any) -> Any:
        writes.append(fields)
        return set_status(*args, **fields)

    run.set_status = spy_status  # type: ignore[method-assign]
    events: list[dict[str, Any]] = []
    execute_run(run, events.append)
    encodes = [e for e in events if e.get("event") == "encode"]
    assert encodes and encodes[-1]["done"] == encodes[-1]["total"] > 0
    phases = [e["phase"] for e in events if e.get("event") == "phase"]
    assert phases.index("encoding text") < phases.index("preparing model")
    counted = [
        w["progress"]
        for w in writes
        if w.get("phase") == "encoding text" and "texts_total" in (w.get("progress") or {})
    ]
    assert counted[0]["texts"] == 0 and "texts_per_s" not in counted[0]  # the pass's start: no rate yet
    last = counted[-1]
    assert last["texts"] == last["texts_total"] == encodes[-1]["total"]
    assert last["texts_per_s"] > 0 and last["encode_eta_s"] == 0
    assert run.status()["state"] == "done"
    assert "texts_total" not in run.raw_status()["progress"]  # training's progress replaced it


def test_the_cli_draws_a_bar_of_texts() -> None:
    err = io.StringIO()
    progress = ConsoleProgress("run-x")
    with redirect_stderr(err):
        progress({"event": "phase", "phase": "encoding text"})
        for done in (0, 64, 128, 150):
            progress({"event": "encode", "done": done, "total": 150})
        for done in (0, 100):  # the users' pass: a new bar
            progress({"event": "encode", "done": done, "total": 100})
        progress({"event": "phase", "phase": "preparing model"})
        progress.close()
    text = err.getvalue()
    assert "encoding texts" in text and "/150 [" in text and "/100 [" in text and "text/s" in text
    assert "run-x: encoding text took" in text


def test_the_live_panel_says_texts_rate_and_eta() -> None:
    from rec_app.train.live_view import progress_view
    from rec_app.runs.table import RunRow
    from tests.rows import run_row

    def row(progress: dict[str, Any]) -> RunRow:
        return run_row(
            name="enhanced-ml-100k-ratio",
            model="enhanced",
            preset="scheme1",
            backbone="minilm",
            duration_s=3.0,
            phase="encoding text",
            progress=progress,
        )

    view = progress_view(
        row({"texts": 800, "texts_total": 1682, "texts_per_s": 120.4, "encode_eta_s": 7.3}),
        {},
        "en",
        phase_estimate_s=100.0,
    )
    assert view.fraction == pytest.approx(800 / 1682)
    assert view.text == "encoding text: 800 of 1,682 texts · 120 texts/s · about 7 s left"
    zh = progress_view(row({"texts": 800, "texts_total": 1682, "texts_per_s": 0.5, "encode_eta_s": 1764}), {}, "zh")
    assert zh.text.startswith("编码文本：800 / 1,682 条文本") and "每条 2.0 秒" in zh.text and "约剩 29 分钟" in zh.text
    first = progress_view(row({"texts": 0, "texts_total": 1682}), {}, "en")  # before the first batch: no rate yet
    assert first.fraction == 0.0 and first.text == "encoding text: 0 of 1,682 texts"
