"""rec_core.analysis.attention_view and the attention figures: tokens readable, rows summing to 1."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from rec_core.analysis import (
    EntityNotFound,
    RunNotAnalysable,
    explain,
    explain_many,
    explain_pair,
    field_matrix,
    field_table,
    join_pieces,
    load_model,
    open_run,
    recommended_items,
    require_attention,
    resolve_entity,
    run_config,
    search_entities,
    shared_max,
    token_table,
    token_view,
)
from rec_app.figures import attention_heatmaps, field_bars, field_heatmap
from rec_core.data.interactions import TextTable
from rec_core.experiment import prepare_data
from rec_app.figures import FONT_FAMILY, Style
from rec_core.runs import RunStore
from rec_core.text import MINILM, TINY_GPT2, TextEncoder, TextEncoderConfig
from rec_core.text.tokens import token_labels

TEXT = "Unbelievable Toy Story (1995). Genres: Animation, Children's."
TABLE = TextTable(texts=(TEXT,), spans=((("title", 0, 22), ("year", 24, 28), ("genres", 39, 60)),))


@dataclass(frozen=True)
class FakeExplanation:  # the fields of rec_core.models.explain.Explanation that views read
    side: str
    index: int
    tokens: tuple[str, ...]
    fields: tuple[str, ...]
    weights: np.ndarray
    seen_in_training: bool = True


def _explanation(backbone: str, heads: int = 3) -> FakeExplanation:
    labels = token_labels(TextEncoder(TextEncoderConfig(backbone=backbone, max_length=64)), TABLE, 0)
    w = np.random.default_rng(0).random((heads, len(labels)))
    return FakeExplanation(
        "item", 0, tuple(t for t, _ in labels), tuple(f for _, f in labels), w / w.sum(1, keepdims=True)
    )


@pytest.fixture(scope="module")
def loaded(analysis_runs: Path) -> tuple:
    run = open_run(RunStore(analysis_runs), "attn-c0")
    data, split = prepare_data(run_config(run))
    return load_model(run, data), data, split


@pytest.mark.parametrize("backbone", [MINILM, TINY_GPT2])
def test_pieces_join_into_words_and_rows_still_sum_to_one(backbone: str) -> None:
    expl = _explanation(backbone)
    view = token_view(expl, "Toy Story", "1", join=True)
    assert np.allclose(view.weights.sum(axis=1), 1.0) and view.weights.shape == (3, len(view.tokens))
    assert not any(t.startswith("##") for t in view.tokens)  # WordPiece pieces joined
    assert all("Ġ" not in t and t == t.strip() for t in view.tokens)  # byte-level decoded, spaces dropped
    words = [t.lower() for t in view.tokens]
    assert "unbelievable" in words and "1995" in words and "animation" in words
    assert view.fields[words.index("1995")] == "year" and view.fields[words.index("animation")] == "genres"
    raw = token_view(expl, "Toy Story", "1", join=False)
    assert len(raw.tokens) == len(expl.tokens) >= len(view.tokens)
    assert np.allclose(raw.weights, expl.weights)


def test_wordpiece_and_byte_level_rules_by_hand() -> None:
    w = np.full((1, 5), 0.2)
    words, fields, summed = join_pieces(
        ["[CLS]", "un", "##believ", "##able", "[SEP]"], ["special", "title", "title", "title", "special"], w
    )
    assert words == ["[CLS]", "unbelievable", "[SEP]"] and np.allclose(summed, [[0.2, 0.6, 0.2]])
    words, fields, _ = join_pieces(
        ["Th", "e", " H", "ist", "ory", " (", "19", "6", "5", ")."],
        ["title"] * 5 + ["template", "year", "year", "year", "template"],
        np.ones((2, 10)),
    )
    assert words == ["The", " History", " (", "1965", ")."] and fields[3] == "year"


def test_real_model_rows_sum_to_one_and_tables_are_tidy(loaded: tuple) -> None:
    model, data, split = loaded
    views = explain_many(model, data, "item", [0, 1, 2]) + [explain(model, data, "user", 0)]
    for v in views:
        assert v.weights.shape[0] == 2 and np.allclose(v.weights.sum(axis=1), 1.0, atol=1e-5)
        assert len(v.tokens) == len(v.fields) == v.weights.shape[1] and all(v.tokens)
    assert {"title", "year", "genres"} <= set(views[0].fields) and {"age", "gender", "occupation"} <= set(
        views[3].fields
    )
    tokens = token_table(views)
    sums = tokens.groupby(["id", "side", "head"])["weight"].sum()
    assert np.allclose(sums, 1.0, atol=1e-5) and set(tokens["head"]) == {"head 1", "head 2", "mean"}
    fields = field_table(views)
    assert np.allclose(fields.groupby(["id", "side", "head"])["weight"].sum(), 1.0, atol=1e-5)
    names, m = field_matrix(views[0])
    assert names[:3] == ["title", "year", "genres"] and m.shape == (3, len(names))
    assert shared_max(views) == pytest.approx(max(float(v.weights.max()) for v in views))


def test_pair_top_items_and_search(loaded: tuple) -> None:
    model, data, split = loaded
    pair = explain_pair(model, data, 3, 7)
    assert pair.user.side == "user" and pair.item.side == "item"
    assert pair.score == pytest.approx(float(model.full_scores(__import__("torch").tensor([3]))[0, 7]), rel=1e-4)
    top = recommended_items(model, data, split, 3, k=5)
    assert len(top) == 5 and len(set(top)) == 5
    seen = set(data.items[split.train][data.users[split.train] == 3])
    assert not seen & set(top)  # training items are masked, as in the evaluation
    title = str(data.item_fields["title"].iat[5])
    assert 5 in search_entities(data, "item", title.upper())["index"].tolist()
    assert search_entities(data, "item", str(data.item_ids[8]))["index"].iat[0] == 8  # exact id first
    assert search_entities(data, "user", "writer")["label"].str.contains("writer").all()
    assert search_entities(data, "item", "no such title anywhere").empty
    assert resolve_entity(data, "user", str(data.user_ids[4])) == 4
    with pytest.raises(EntityNotFound, match="no item with id '999999'"):
        resolve_entity(data, "item", "999999")


def test_models_without_attention_are_refused_in_words(analysis_runs: Path) -> None:
    store = RunStore(analysis_runs)
    for run_id, words in (("noattn", "without cross-attention"), ("mf", r"\(mf model\) has no cross-attention")):
        run = open_run(store, run_id)
        data, _ = prepare_data(run_config(run))
        with pytest.raises(RunNotAnalysable, match=words):
            require_attention(load_model(run, data), run_id)


def test_figures_share_one_scale_and_follow_presentation_mode(loaded: tuple) -> None:
    model, data, _ = loaded
    views = explain_many(model, data, "item", [0, 1])
    fig = attention_heatmaps(views, Style("zh", presentation=True), "标题", zmax=shared_max(views))
    heat = [tr for tr in fig.data if tr.type == "heatmap"]
    assert len(heat) == 2 and all(tr.coloraxis == "coloraxis" for tr in heat)
    assert fig.layout.coloraxis.cmax == pytest.approx(shared_max(views)) and fig.layout.coloraxis.cmin == 0
    assert list(heat[0].y) == ["注意力头 1", "注意力头 2", "平均"]
    assert np.allclose(np.asarray(heat[0].z).sum(axis=1), 1.0, atol=1e-5)  # every row, the mean included
    assert fig.layout.font.family == FONT_FAMILY and fig.layout.font.size == Style("zh", True).font
    small = attention_heatmaps(views[:1], Style("en"), "t")
    assert small.layout.font.size < fig.layout.font.size
    assert json.loads(field_heatmap(views[0], Style(), "f").to_json())["data"][0]["type"] == "heatmap"
    bars = field_bars(views, Style(), "b")
    assert len(bars.data) == 2 and bars.data[0].x[:3] == ("title", "year", "genres")
    html = small.to_html(include_plotlyjs=True, full_html=True)
    assert "<html>" in html and "plotly" in html.lower() and len(html) > 1_000_000  # standalone: plotly.js inside


def test_figure_exports_svg_and_png_at_slide_size(loaded: tuple, tmp_path: Path) -> None:
    from rec_app.figures import export_images

    model, data, _ = loaded
    fig = attention_heatmaps([explain(model, data, "item", 0)], Style("zh"), "注意力")
    out = export_images({"attention": fig}, ("svg", "png"))
    assert out["attention.svg"].lstrip().startswith(b"<svg") and b'width="1600"' in out["attention.svg"]
    png = out["attention.png"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (3200, 1800)
