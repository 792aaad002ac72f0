"""Compare judges a warm-started group against its equal-budget control (MF continued from the
same MF run with the same training), keeps MF from scratch as the ordinary reference, and shows
which MF run each warm-started run started from."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rec_app.compare.groups import default_reference, group_runs
from rec_app.compare.equal_budget import (
    control_comparisons,
    control_for,
    equal_budget_pairs,
    warm_start_table,
)
from rec_app.compare.table import compare_groups
from tests.rows import run_row

SEEDS = (0, 1, 2)
WARM_TRAIN = {"epochs": 300, "lr": 3e-4, "patience": 20, "batch_size": 2048, "threads": 1}


def _config(model: dict[str, Any], train: dict[str, Any], seed: int) -> dict[str, Any]:
    return {
        "data": {"name": "ml-100k"},
        "split": {"kind": "ratio", "seed": seed},
        "model": model,
        "train": {**train, "seed": seed},
        "seed": seed,
    }


MF = {"name": "mf", "embed_dim": 64, "reg_weight": 5e-3, "item_bias": True}
KINDS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "mf": (MF, {"epochs": 300, "lr": 2e-3, "patience": 20, "batch_size": 2048, "threads": 1}),
    "continued": ({**MF, "init_from_run": "auto"}, WARM_TRAIN),
    # The same MF continued, trained on another machine with more torch threads: same budget.
    "continued-threads": ({**MF, "init_from_run": "auto"}, {**WARM_TRAIN, "threads": 4}),
    "continued-lr": ({**MF, "init_from_run": "auto"}, {**WARM_TRAIN, "lr": 1e-3}),  # another budget
    "warm": ({**MF, "name": "gpt2rec", "init_from_run": "auto", "backbone": "minilm"}, WARM_TRAIN),
    "cold": ({**MF, "name": "gpt2rec", "backbone": "minilm"}, WARM_TRAIN),
}


def _rows(kinds: tuple[str, ...]) -> list[Any]:
    rows = []
    for kind in kinds:
        model, train = KINDS[kind]
        for seed in SEEDS:
            rows.append(
                run_row(
                    run_id=f"{kind}-s{seed}",
                    name=kind,
                    state="done",
                    model=model["name"],
                    seed=seed,
                    config=_config(model, train, seed),
                    metrics={"ndcg@10": 0.3},
                    has_results=True,
                )
            )
    return rows


def _by_run(groups: list[Any]) -> dict[str, Any]:
    return {g.runs[0].run_id.rsplit("-s", 1)[0]: g for g in groups}


def test_a_warm_started_group_is_judged_against_mf_continued_with_the_same_budget() -> None:
    groups = _by_run(group_runs(_rows(("mf", "continued-lr", "continued", "warm", "cold"))))
    warm, cold = groups["warm"], groups["cold"]
    assert control_for(warm, list(groups.values())) is groups["continued"]  # same lr, patience, epochs
    assert control_for(cold, list(groups.values())) is None  # no warm start: nothing to control for
    pairs = equal_budget_pairs([warm, cold, groups["mf"]], list(groups.values()))
    assert pairs == [(warm, groups["continued"])]
    # MF from scratch stays the page's reference; MF continued never takes its place.
    selected = [warm, groups["mf"], groups["continued"]]
    assert default_reference(selected) == groups["mf"].key
    assert default_reference([warm, groups["continued"]]) is None  # only the control: none by default


def test_the_thread_count_does_not_make_another_budget() -> None:
    groups = _by_run(group_runs(_rows(("continued-threads", "warm"))))
    assert control_for(groups["warm"], list(groups.values())) is groups["continued-threads"]


def test_without_its_control_a_warm_started_group_says_so() -> None:
    groups = _by_run(group_runs(_rows(("mf", "continued-lr", "warm"))))
    assert equal_budget_pairs([groups["warm"]], list(groups.values())) == [(groups["warm"], None)]


def _tables(shift: dict[str, float]) -> dict[str, pd.DataFrame]:
    """Per-user test tables: each group's NDCG@10 = a common per-user base + its shift + noise."""
    rng = np.random.default_rng(0)
    out = {}
    for seed in SEEDS:
        base = rng.uniform(0.1, 0.5, 300)
        for kind, delta in shift.items():
            values = base + delta + rng.normal(0, 0.01, 300)
            out[f"{kind}-s{seed}"] = pd.DataFrame({"user": np.arange(300), "ndcg@10": values})
    return out


def test_control_comparisons_use_the_control_as_reference() -> None:
    groups = _by_run(group_runs(_rows(("mf", "continued", "warm"))))
    tables = _tables({"mf": 0.0, "continued": 0.02, "warm": 0.021})

    def compare(reference: Any, others: Any) -> list[Any]:
        return compare_groups(reference, others, tables.__getitem__, ["ndcg@10"], n_boot=200)

    [found] = control_comparisons(equal_budget_pairs([groups["warm"]], list(groups.values())), compare)
    assert found.reference == groups["continued"].name and found.group == groups["warm"].name
    [row] = found.rows
    # Against its control the warm group gains 0.001, against MF from scratch 0.021.
    assert abs(row.diff - 0.001) < 0.003
    [vs_mf] = compare(groups["mf"], [groups["warm"]])
    assert vs_mf.rows[0].diff > 0.015


def test_the_warm_start_table_names_each_runs_mf_source_and_its_settings() -> None:
    groups = _by_run(group_runs(_rows(("mf", "continued", "warm"))))
    results = {
        f"warm-s{s}": {
            "warm_start": {
                "run_id": f"mf-s{s}",
                "model": {"reg_weight": 5e-3, "embed_dim": 64},
                "train": {"lr": 2e-3, "epochs": 300, "patience": 20},
                "epochs_run": 120,
            }
        }
        for s in SEEDS
    }
    results["continued-s0"] = {"warm_start_run": "mf-s0"}  # recorded before the settings were
    table = warm_start_table(list(groups.values()), results.get)
    assert set(table["group"]) == {groups["warm"].name, groups["continued"].name}  # MF from scratch: none
    warm = table[table["group"] == groups["warm"].name]
    assert list(warm["warm_start_run"]) == ["mf-s0", "mf-s1", "mf-s2"]
    assert set(warm["lr"]) == {2e-3} and set(warm["epochs_run"]) == {120}
    continued = table[table["group"] == groups["continued"].name].set_index("seed")
    assert continued.loc[0, "warm_start_run"] == "mf-s0" and pd.isna(continued.loc[1, "warm_start_run"])


def test_the_report_judges_warm_started_groups_against_their_control_and_names_their_sources() -> None:
    from rec_app.report import ReportInputs, build_report

    groups = _by_run(group_runs(_rows(("mf", "continued", "warm", "cold"))))
    tables = _tables({"mf": 0.0, "continued": 0.02, "warm": 0.021, "cold": -0.01})

    def compare(reference: Any, others: Any) -> list[Any]:
        return compare_groups(reference, others, tables.__getitem__, ["ndcg@10"], n_boot=200)

    selected = [groups["mf"], groups["warm"], groups["cold"]]
    pairs = equal_budget_pairs(selected, list(groups.values()))
    results = {
        f"warm-s{s}": {"warm_start": {"run_id": f"mf-s{s}", "model": {"reg_weight": 5e-3}, "train": {"lr": 2e-3}}}
        for s in SEEDS
    }
    report = build_report(
        ReportInputs(
            groups=selected,
            reference=groups["mf"],
            comparisons=compare(groups["mf"], [groups["warm"], groups["cold"]]),
            results=results,
            metrics=["ndcg@10"],
            control_comparisons=control_comparisons(pairs, compare),
        ),
        "en",
    )
    control = report.tables["differences_control"]
    assert list(control.iloc[:, 0]) == [groups["warm"].name]  # only the warm-started group, against its control
    assert "Against the equal-budget control (MF continued)" in report.html
    assert groups["continued"].name in report.html
    assert "mf-s0" in report.tables["warm_starts"].to_string()
    configs = report.tables["configs"]
    assert "warm_start.run (seed 0)" in set(configs.iloc[:, 0]) and "warm_start.train.lr" in set(configs.iloc[:, 0])
    missing = build_report(
        ReportInputs(groups=selected, reference=groups["mf"], comparisons=[], results={}, missing_controls=["W"]), "en"
    )
    assert "<strong>W</strong> has no equal-budget control yet" in missing.html
