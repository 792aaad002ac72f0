"""The Attention, Embeddings and Error analysis pages through AppTest, on a store of real tiny runs."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from rec_core.evaluate import evaluate
from rec_core.experiment import load_run_model, prepare_data
from rec_core.runs import RunStore

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 300  # a page's first run imports torch; the first projection compiles UMAP (numba)


@pytest.fixture()
def runs(analysis_runs_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = analysis_runs_copy
    monkeypatch.setenv("REC_CORE_RUNS", str(root))
    return root


def page(name: str, lang: str = "en", **query: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    at.query_params.update(query)
    at.switch_page(name)
    return at.run()


def _decoded(value: object) -> object:
    """Plotly's JSON keeps numpy arrays as {"dtype", "bdata" (base64), "shape"}: back to lists."""
    if isinstance(value, dict) and "bdata" in value and "dtype" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        return (flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat).tolist()
    if isinstance(value, dict):
        return {k: _decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    return value


def figures(at: AppTest) -> list[dict]:
    """The page's plotly figures as plain JSON (lists, not typed arrays)."""
    return [_decoded(json.loads(e.proto.spec)) for e in at.get("plotly_chart")]  # type: ignore[misc]  # AppTest's generic element has .proto


def no_failure(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def messages(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("error", "warning", "info") for e in getattr(at, kind))


# -- attention ----------------------------------------------------------------------------------------
def test_attention_heatmap_of_a_real_model_has_rows_summing_to_one(runs: Path) -> None:
    at = page("pages/3_Attention.py", run="attn-c0")
    no_failure(at)
    assert at.title[0].value == "Attention" and at.selectbox(key="attn_run").value == "attn-c0"
    heat, fields = figures(at)
    z = np.array([tr["z"] for tr in heat["data"] if tr["type"] == "heatmap"][0], dtype=float)
    assert z.shape[0] == 3 and np.allclose(z.sum(axis=1), 1.0, atol=1e-5)  # 2 heads + their mean
    ticks = heat["layout"]["xaxis"]["ticktext"]
    assert len(ticks) == z.shape[1] and any("History" in tk for tk in ticks) and any("1965" in tk for tk in ticks)
    assert fields["data"][0]["type"] == "heatmap" and "title" in fields["data"][0]["x"]
    assert {b.label for b in at.get("download_button")} >= {"SVG", "PNG", "HTML"}
    at.multiselect(key="attn_items").set_value([0, 1, 2]).run()  # several items, one colour scale
    no_failure(at)
    heat = figures(at)[0]
    assert sum(tr["type"] == "heatmap" for tr in heat["data"]) == 3
    assert all(tr.get("coloraxis") == "coloraxis" for tr in heat["data"] if tr["type"] == "heatmap")


@pytest.mark.parametrize("mode", ["user", "pair", "top"])
def test_attention_modes(runs: Path, mode: str) -> None:
    at = page("pages/3_Attention.py", run="attn-c01")
    at.segmented_control(key="attn_mode").set_value(mode).run()
    no_failure(at)
    heat = figures(at)[0]
    n = {"user": 1, "pair": 2, "top": 5}[mode]
    for tr in [tr for tr in heat["data"] if tr["type"] == "heatmap"][:n]:
        assert np.allclose(np.array(tr["z"], dtype=float).sum(axis=1), 1.0, atol=1e-5)
    assert sum(tr["type"] == "heatmap" for tr in heat["data"]) == n
    if mode == "pair":
        # The score and, beside it, the pair's rank among the user's items (item 11 of issue 11).
        # (the run's two shares of attention on content come first, above the mode switch)
        pair = {m.label: m.value for m in at.metric if not m.label.startswith("Attention on content")}
        assert list(pair) == ["Model score of the pair", "Rank among the user's items"]
        assert np.isfinite(float(pair["Model score of the pair"])) and " of " in pair["Rank among the user's items"]
        shares = [m.value for m in at.metric if m.label.startswith("Attention on content")]
        assert len(shares) == 2 and all(v.endswith("%") and 0 <= float(v[:-1]) <= 100 for v in shares)


def test_attention_pair_mode_opens_on_a_ranked_test_pair(runs: Path) -> None:
    # issue 23 minor: it opened on user 0 and item 0, a training pair ("not ranked").
    import re

    at = page("pages/3_Attention.py", run="attn-c01")
    at.segmented_control(key="attn_mode").set_value("pair").run()
    no_failure(at)
    rank = next(m.value for m in at.metric if m.label == "Rank among the user's items")
    assert re.fullmatch(r"\d+(\.5)? of \d+", rank), rank


def test_attention_bad_input_gives_messages_not_tracebacks(runs: Path) -> None:
    at = page("pages/3_Attention.py", run="attn-c0", item="424242")
    assert not at.exception and "no item with id '424242'" in messages(at)
    at.text_input(key="attn_items_q").input("no such title at all").run()
    assert not at.exception and "Nothing matches" in messages(at)
    at.multiselect(key="attn_items").set_value([]).run()
    assert not at.exception and "Pick at least one" in messages(at) and not at.get("plotly_chart")
    for run_id, words in (("noattn", "without cross-attention"), ("mf", "no cross-attention")):
        at.selectbox(key="attn_run").set_value(run_id).run()
        assert not at.exception and words in messages(at) and not at.get("plotly_chart")


def test_missing_or_foreign_checkpoints_are_explained(runs: Path) -> None:
    (runs / "attn-c0" / "model.safetensors").unlink()
    at = page("pages/3_Attention.py", run="attn-c0")
    # A finished run whose checkpoint is gone lists as corrupt, naming the file (tests/faults).
    assert not at.exception and "model.safetensors: missing" in messages(at)
    run = RunStore(runs).get("attn-c01")
    state, meta = run.load_checkpoint()
    run.save_checkpoint({k: v for k, v in list(state.items())[1:]}, meta)
    at.selectbox(key="attn_run").set_value("attn-c01").run()
    assert not at.exception and "another version" in messages(at)


# -- embeddings ---------------------------------------------------------------------------------------
def test_embeddings_every_view_of_a_run(runs: Path) -> None:
    at = page("pages/4_Embeddings.py", run="attn-c0")
    no_failure(at)
    fig = figures(at)[0]
    panels: dict[str, list[tuple[float, float]]] = {}
    for tr in fig["data"]:
        panels.setdefault(tr.get("xaxis", "x"), []).extend(zip(tr["x"], tr["y"]))
    assert len(panels) == 3  # id, text, fused
    for points in panels.values():
        xy = np.array(points, dtype=float)
        assert xy.shape == (90, 2) and np.isfinite(xy).all()
    assert [a["text"] for a in fig["layout"]["annotations"]][:3] == ["ID view", "text view", "fused view"]
    value = float(at.metric[0].value)
    assert 0.0 <= value <= 1.0 and "agreement" in at.metric[0].label
    at.segmented_control(key="emb_side").set_value("user").run()
    at.selectbox(key="emb_colour").set_value("occupation").run()
    no_failure(at)
    fig = figures(at)[0]
    assert sum(len(tr["x"]) for tr in fig["data"] if tr.get("xaxis", "x") == "x") == 120


def test_a_finished_runs_layouts_are_precomputed_and_read_from_disk(
    runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # issue 23 item 10: the first projection took 51 s on the page; the app now computes the
    # default layouts in the background when it sees a run finish, and the page reads them.
    import rec_core.analysis as analysis
    from rec_core.analysis.projection_cache import precompute_run, projection_cache_root

    monkeypatch.setenv("REC_CORE_CACHE", str(tmp_path / "cache"))
    folder = runs / "attn-c0"
    stamp = (folder / "results.json").stat().st_mtime
    made = precompute_run(folder, stamp)
    assert made >= 2 and len(list(projection_cache_root().glob("*.npy"))) == made  # each item view
    assert precompute_run(folder, stamp) == 0  # stored: nothing computed twice

    def no_projection(*_: object, **__: object) -> None:
        raise AssertionError("the page computed a layout that was on disk")

    monkeypatch.setattr(analysis, "project", no_projection)
    at = page("pages/4_Embeddings.py", run="attn-c0")
    no_failure(at)
    assert figures(at)


def test_embeddings_two_runs_share_colours_and_show_agreement(runs: Path) -> None:
    at = page("pages/4_Embeddings.py", lang="zh")
    at.segmented_control(key="emb_layout").set_value("runs").run()
    at.selectbox(key="emb_run_a").set_value("attn-c0").run()
    at.selectbox(key="emb_run_b").set_value("attn-c01").run()
    no_failure(at)
    assert at.title[0].value == "嵌入投影" and len(at.metric) == 2
    assert all(0.0 <= float(m.value) <= 1.0 for m in at.metric)
    fig = figures(at)[0]
    colours: dict[str, dict[str, str]] = {}
    for tr in fig["data"]:
        colours.setdefault(tr.get("xaxis", "x"), {})[tr["name"]] = tr["marker"]["color"]
    assert colours["x"] == colours["x2"] and len(colours) == 2
    at.selectbox(key="emb_run_b").set_value("mf").run()  # an ID-only run: id view, no agreement
    no_failure(at)
    assert at.metric[1].value == "–"
    at.session_state["cmp_presentation"] = True
    at.run()
    assert figures(at)[0]["layout"]["font"]["size"] == 22  # the Compare page's presentation toggle applies


def test_embeddings_aligned_layout_maps_id_and_text_together_and_measures_their_closeness(runs: Path) -> None:
    # issue 24 item 5: one joint UMAP of a run's ID and text vectors, warm / cold in colour.
    at = page("pages/4_Embeddings.py", run="attn-c0")
    at.segmented_control(key="emb_layout").set_value("aligned").run()
    no_failure(at)
    assert len(at.metric) == 2 and "warm" in at.metric[0].label and "cold" in at.metric[1].label
    assert -1.0 <= float(at.metric[0].value) <= 1.0  # every item of a ratio split is warm
    assert at.metric[1].value == "–"
    fig = figures(at)[0]
    symbols = {tr["marker"]["symbol"] for tr in fig["data"]}
    assert symbols == {"circle", "diamond-open"}  # ID and text vectors
    assert sum(len(tr["x"]) for tr in fig["data"]) == 2 * 90  # each item twice
    at.selectbox(key="emb_run_a").set_value("mf").run()  # no text view: one sentence, no figure
    no_failure(at)
    assert "nothing to align" in messages(at) and not at.metric


# -- error analysis -----------------------------------------------------------------------------------
def test_error_analysis_ranks_agree_with_evaluate(runs: Path) -> None:
    at = page("pages/5_Error_analysis.py", run=["attn-c0", "mf"])
    no_failure(at)
    store = RunStore(runs)
    user_id = at.text_input(key="err_user_id").value
    for position, run_id in ((3, "attn-c0"), (4, "mf")):  # rank columns of the held-out table
        model, config = load_run_model(store.get(run_id))
        data, split = prepare_data(config)
        ranks = evaluate(model, data, split, "test", with_ranks=True).ranks
        u = int(np.flatnonzero(data.user_ids.astype(str) == user_id)[0])
        mine = ranks[ranks["user"] == u]
        truth = {str(data.item_ids[i]): int(r) for i, r in zip(mine["item"], mine["rank"])}
        held = at.dataframe[1].value
        assert dict(zip(held["id"], held.iloc[:, position])) == truth
    top = at.dataframe[2].value
    assert list(top["rank"]) == list(range(1, 11)) and top.shape[1] == 5
    assert len(at.dataframe) >= 6  # history, held-out, top-10, two user lists, never-retrieved tables


def test_error_analysis_user_switch_and_bad_ids(runs: Path) -> None:
    at = page("pages/5_Error_analysis.py", run=["attn-c0", "mf"])
    at.text_input(key="err_user_id").input("7").run()
    no_failure(at)
    assert "User 7" in "\n".join(m.value for m in at.markdown)
    at.text_input(key="err_user_id").input("nobody").run()
    assert not at.exception and "There is no user with id “nobody” in this dataset" in messages(at)
    assert len(at.dataframe) >= 3  # the lists below still show
    at.selectbox(key="err_metric").set_value("hit@10").run()
    assert not at.exception


def test_error_analysis_without_a_user_id_says_what_to_do(runs: Path) -> None:
    # issue 23 minor: an empty box said "no user with id ''".
    at = page("pages/5_Error_analysis.py", run=["attn-c0", "mf"])
    at.text_input(key="err_user_id").input("").run()
    assert not at.exception
    assert "Type a user id above" in messages(at) and "''" not in messages(at)
    assert len(at.dataframe) >= 3  # the lists below still show


def test_error_analysis_in_chinese_names_the_profile_fields(runs: Path) -> None:
    at = page("pages/5_Error_analysis.py", lang="zh", run=["attn-c0", "mf"])
    no_failure(at)
    profile = next(c.value for c in at.caption if "年龄" in c.value)
    assert "age:" not in profile and "occupation:" not in profile and "职业" in profile


def test_error_analysis_csvs_name_the_index_and_the_dataset_id() -> None:
    import pandas as pd

    from rec_app.analysis.tables import export_columns

    items = export_columns(pd.DataFrame({"item": [0], "id": ["1"], "title": ["Toy Story (1995)"]}))
    users = export_columns(pd.DataFrame({"user": [6], "id": ["7"], "diff": [0.1]}))
    assert list(items.columns) == ["item_index_0based", "item_id", "title"]
    assert list(users.columns) == ["user_index_0based", "user_id", "diff"]


def test_pages_without_runs_say_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REC_CORE_RUNS", str(tmp_path / "empty"))
    for name in ("pages/3_Attention.py", "pages/4_Embeddings.py", "pages/5_Error_analysis.py"):
        at = page(name, lang="zh")
        no_failure(at)
        assert at.info and not at.get("plotly_chart")


def test_chinese_pages_say_when_a_library_message_is_in_english(monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 23 minor: the Chinese UI showed English library errors without a word of Chinese.
    import streamlit as st

    from rec_app.ui.errors import show_error
    from rec_core.errors import RecCoreError

    shown: list[str] = []
    monkeypatch.setattr(st, "error", lambda body, **_: shown.append(body))
    show_error(RecCoreError("The two runs share no test users."), "zh")
    show_error(RecCoreError("The two runs share no test users."), "en")
    assert "计算库给出的详细说明（英文）" in shown[0] and "The two runs share no test users." in shown[0]
    assert "英文" not in shown[1]
