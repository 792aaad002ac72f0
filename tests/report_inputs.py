"""The defence report's inputs from the analysis store, as the Compare page would gather them
(the attention heatmaps and the projection as the Attention and Embeddings pages offer them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rec_app.compare.groups import default_reference, group_runs
from rec_app.compare.table import compare_groups
from rec_app.i18n import t
from rec_app.report import ReportFigure, ReportInputs
from rec_app.runs.table import list_rows
from rec_core.runs import RunStore


def report_inputs(root: Path, lang: str = "en", extras: bool = True) -> ReportInputs:
    """Every group of the store, MF the reference, curves per run, and (with `extras`) the
    attention heatmaps of two items of attn-c0 and a projection of its items."""
    from rec_app.figures import attention_heatmaps, projection_figure
    from rec_core.analysis import entity_attributes, explain_many, load_model, open_run, run_config, shared_max
    from rec_core.data import load_dataset
    from rec_core.split import make_split

    store = RunStore(root)
    groups = group_runs(list_rows(store), lang=lang)
    ref_key = default_reference(groups)
    reference = next(g for g in groups if g.key == ref_key)
    others = [g for g in groups if g.key != ref_key]
    comparisons = compare_groups(reference, others, lambda rid: store.get(rid).read_table("per_user_test"), n_boot=200)
    runs = [r for g in groups for r in g.runs]
    results = {r.run_id: store.get(r.run_id).results() for r in runs}
    histories = {f"{g.name} · s{r.seed}": store.get(r.run_id).history() for g in groups for r in g.runs}
    curve_groups = {f"{g.name} · s{r.seed}": g.name for g in groups for r in g.runs}
    figures: list[ReportFigure] = []
    if extras:
        run = open_run(store, "attn-c0")
        config = run_config(run)
        data = load_dataset(config.data)
        split = make_split(data, config.split)
        model = load_model(run, data)
        views = explain_many(model, data, "item", [0, 1], True)
        figures.append(
            ReportFigure(
                "attention",
                "attention-tokens",
                lambda s: attention_heatmaps(
                    views,
                    s,
                    t("attn.heat_title_item", s.lang, n=2),
                    [f"{v.entity_id} · {v.label}" for v in views],
                    zmax=shared_max(views),
                ),
                lambda code: t("report.attention_caption", code, run="attn-c0", what=t("attn.mode_item", code)),
            )
        )
        attributes = entity_attributes(data, split, "item")
        coords = np.random.default_rng(0).normal(size=(data.n_items, 2))
        figures.append(
            ReportFigure(
                "projection",
                "projection",
                lambda s: projection_figure(
                    [(t("an.view.id", s.lang), coords), (t("an.view.text", s.lang), coords)],
                    attributes,
                    "genre",
                    s,
                    t("an.items", s.lang),
                ),
                lambda code: t("an.items", code),
            )
        )
    return ReportInputs(
        groups=groups,
        reference=reference,
        comparisons=comparisons,
        results=results,
        histories=histories,
        curve_groups=curve_groups,
        extras=figures,
    )
