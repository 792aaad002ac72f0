"""The app's pure logic: strings, run rows, grouping and tests by seed, exports, launch helpers."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from rec_app.compare.export import export_frame, to_latex
from rec_app.compare.groups import (
    RunGroup,
    default_reference,
    group_runs,
    initial_selection,
    setting_mismatch,
    single_groups,
)
from rec_app.compare.table import (
    TABLE_METRICS,
    GroupComparison,
    compare_groups,
    differences_table,
    random_reference,
    segment_table,
    summary_table,
)
from rec_core.evaluate.compare import VERDICTS, compare_seeds
from rec_core.errors import ConfigError
from rec_app.i18n import STRICT_ENV, STRINGS, format_duration, metric_label, t
from rec_app.train.launch import build_configs, execute_argv, parse_seeds, save_upload
from rec_app.runs.table import RunRow, list_rows, parse_time, short_name
from rec_core.runs import RunStore
from tests.rows import run_row


# -- strings (every key the source uses, both languages, strict mode: tests/test_i18n.py) ------------
def test_dynamic_keys_cover_every_state_phase_and_name() -> None:
    for prefix, names in {
        "state": ["queued", "running", "done", "failed", "stopped", "corrupt"],
        "dataset": ["ml-100k", "ml-1m", "synthetic", "csv"],
        "split": ["ratio", "loo", "cold-items"],
        "model": ["enhanced", "gpt2rec", "mf", "ease", "itemknn", "pop"],
        "preset": ["scheme1", "scheme2", "scheme3"],
        "verdict": list(VERDICTS),
        "segment": ["cold", "tail", "torso", "head", "low", "mid", "high"],
        "loss": ["bpr", "contrastive", "total"],
    }.items():
        for name in names:
            assert f"{prefix}.{name}" in STRINGS, f"{prefix}.{name}"


def test_t_formats_and_falls_back_visibly(monkeypatch: pytest.MonkeyPatch) -> None:
    assert t("live.epoch", "en", k=2, n=5) == "epoch 2 of 5"
    assert t("live.epoch", "zh", k=2, n=5) == "第 2 / 5 轮"
    monkeypatch.setenv(STRICT_ENV, "0")  # the app's mode: a missing key shows, the page goes on
    assert t("no.such.key", "zh") == "[no.such.key]"
    assert t("no.such.key", "en", default="x") == "x"
    assert metric_label("hit@10", "zh") == "命中率@10" and metric_label("ndcg@5", "en") == "NDCG@5"
    assert format_duration(42, "en") == "42 s" and format_duration(3725, "en") == "1 h 2 min"
    assert format_duration(150, "zh") == "2 分 30 秒" and format_duration(None, "en") == "–"


# -- run rows -----------------------------------------------------------------------------------------
def test_rows_read_seeded_runs_with_metrics_and_durations(app_runs: Path) -> None:
    rows = list_rows(RunStore(app_runs))
    assert len(rows) == 4 and all(r.state == "done" and r.comparable for r in rows)
    assert all(0 < r.metrics["ndcg@10"] < 1 and r.duration_s is not None for r in rows)
    assert {r.model for r in rows} == {"mf", "enhanced"} and {r.seed for r in rows} == {0, 1}
    assert all(not re.search(r"\d{8}-\d{6}", r.name) for r in rows)  # short names in tables


def test_rows_survive_corrupt_and_odd_files(app_runs: Path) -> None:
    store = RunStore(app_runs)
    ids = sorted(store.run_ids())
    (store.root / ids[0] / "results.json").write_text("{not json")
    (store.root / ids[1] / "config.json").write_text("[]")
    rows = {r.run_id: r for r in list_rows(store)}
    # Never "done" without readable results (the state rule of the fault corpus, tests/faults).
    assert rows[ids[0]].state == "corrupt" and not rows[ids[0]].comparable and "results.json" in rows[ids[0]].error
    assert rows[ids[1]].state == "corrupt" and "config.json" in rows[ids[1]].error
    assert rows[ids[2]].comparable and rows[ids[3]].comparable
    assert parse_time(1_795_823_219.0) is not None and parse_time("2026-01-01T00:00:00+00:00") is not None
    assert (
        parse_time("garbage") is None
        and short_name("mf-ml-100k-ratio-s0-20261127-231502-3f9a") == "mf-ml-100k-ratio-s0"
    )


# -- groups, tables, tests ----------------------------------------------------------------------------
@pytest.fixture()
def rows(app_runs: Path) -> list:
    return list_rows(RunStore(app_runs))


def test_runs_differing_only_by_seed_form_one_group(rows: list) -> None:
    groups = group_runs(rows)
    assert len(groups) == 2 and all(len(g.runs) == 2 and g.seeds == (0, 1) for g in groups)
    assert len(single_groups(rows)) == 4
    summary = summary_table(groups)
    mf = summary[summary["group"] == next(g.name for g in groups if g.model == "mf")].iloc[0]
    values = [r.metrics["ndcg@10"] for r in rows if r.model == "mf"]
    assert mf["ndcg@10"] == pytest.approx(sum(values) / 2)
    assert mf["ndcg@10 std"] == pytest.approx(pd.Series(values).std(ddof=1))


def test_groups_are_paired_by_seed_and_judged_by_p_and_ci(rows: list, tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs")
    groups = group_runs(rows)
    ref, other = (g for g in sorted(groups, key=lambda g: g.model == "enhanced"))
    comps = compare_groups(
        ref, [other], lambda rid: store.get(rid).read_table("per_user_test"), ["ndcg@10", "hit@10"], n_boot=300
    )
    assert len(comps) == 1 and comps[0].error is None and comps[0].seeds == (0, 1)
    n_users = len(store.get(ref.runs[0].run_id).read_table("per_user_test"))
    assert comps[0].n_pairs == 2 * n_users  # paired users, summed over both seeds
    # Seed-aware: two seeds -> a t-test over the two per-seed differences, each seed paired alone.
    assert comps[0].method == "seed-t-test"
    assert all(c.n_seeds == 2 and [p.seed for p in c.per_seed] == [0, 1] for c in comps[0].rows)
    diffs = differences_table(comps)
    for _, d in diffs.iterrows():
        significant = d["p_value"] < 0.05 and (d["ci_low"] > 0 or d["ci_high"] < 0)
        assert d["verdict"] == (("better" if d["diff"] > 0 else "worse") if significant else "inconclusive")
        assert (d["seeds_needed"] is None or d["seeds_needed"] >= 2) and 0 <= d["user_p_value"] <= 1


def test_a_group_without_shared_seed_gets_a_message_not_an_exception(rows: list, tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs")
    mf, enh = (g for g in sorted(group_runs(rows), key=lambda g: g.model != "mf"))
    shifted = RunGroup(enh.key, enh.name, tuple(dataclasses.replace(r, seed=r.seed + 5) for r in enh.runs))
    comps = compare_groups(
        mf, [shifted], lambda rid: store.get(rid).read_table("per_user_test"), ["ndcg@10"], n_boot=50
    )
    assert comps[0].error and "no seed in common" in comps[0].error and not comps[0].rows


def test_exports_csv_latex_and_segments(rows: list, tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs")
    groups = group_runs(rows)
    summary = summary_table(groups)
    comps = compare_groups(
        groups[1], [groups[0]], lambda rid: store.get(rid).read_table("per_user_test"), list(TABLE_METRICS), n_boot=200
    )
    diffs = differences_table(comps)
    long = export_frame(summary, diffs, TABLE_METRICS)
    assert len(long) == 2 * len(TABLE_METRICS) and {"mean", "std", "p_value", "verdict"} <= set(long.columns)
    assert long[long["group"] == groups[1].name]["p_value"].isna().all()  # the reference itself
    diffs.loc[0, "verdict"] = "better"
    tex = to_latex(summary, ["hit@10", "ndcg@10"], diffs, caption="50% of a_b & c", note="† significant")
    assert r"\begin{tabular}{lcc}" in tex and r"\toprule" in tex and r"$\pm$" in tex
    assert r"50\% of a\_b \& c" in tex and tex.count(r"\textbf{") == 2
    if diffs.loc[0, "metric"] in ("hit@10", "ndcg@10"):
        assert r"$^{\dagger}$" in tex
    results = {r.run_id: store.get(r.run_id).results() for r in rows}
    seg = segment_table(groups, results.get, "ndcg@10")
    assert set(seg["kind"]) == {"item", "user"}
    assert set(seg[seg["kind"] == "user"]["segment"]) <= {"low", "mid", "high"}
    assert (seg["n_runs"] == 2).all()


# -- launch helpers -----------------------------------------------------------------------------------
def test_seeds_parse_and_reject_bad_input() -> None:
    assert parse_seeds("0") == [0] and parse_seeds("0, 1;2") == [0, 1, 2] and parse_seeds("3-5") == [3, 4, 5]
    for bad in ("", "a", "1,1", "-1", "5-3", "0-100", "1.5"):
        with pytest.raises(ConfigError, match="seeds"):
            parse_seeds(bad)


def test_build_configs_names_the_bad_field(tmp_path: Path) -> None:
    base = {
        "data": {"name": "synthetic"},
        "model": {"name": "enhanced", "embed_dim": 64, "n_heads": 3},
        "train": {"epochs": 2},
    }
    with pytest.raises(ConfigError, match="n_heads"):
        build_configs(base, [0])
    base["model"] = {"name": "enhanced", "use_peft": True, "use_cache": True}
    with pytest.raises(ConfigError, match="use_peft"):
        build_configs(base, [0])
    base["model"], base["train"] = {"name": "mf"}, {"lr": -1.0}
    with pytest.raises(ConfigError, match="lr"):
        build_configs(base, [0])
    base["train"] = {"epochs": 2}
    configs = build_configs(base, [0, 7])
    assert [c.seed for c in configs] == [0, 7] and configs[1].split.seed == 7
    argv = execute_argv("r1", tmp_path)
    assert argv[1:5] == ["-m", "rec_core", "execute", "r1"] and argv[-1] == "--quiet"


def test_uploads_are_content_addressed(tmp_path: Path) -> None:
    a = save_upload(tmp_path, "interactions.csv", b"user,item\n1,2\n")
    b = save_upload(tmp_path, "interactions.csv", b"user,item\n1,2\n")
    c = save_upload(tmp_path, "interactions.csv", b"user,item\n1,3\n")
    assert a == b != c and a.read_bytes() == b"user,item\n1,2\n" and ".uploads" in a.parts
    assert RunStore(tmp_path).run_ids() == []  # never taken for a run
    with pytest.raises(ConfigError):
        save_upload(tmp_path, "../x.csv", b"")


def test_duration_strings_are_rounded_sensibly() -> None:
    assert format_duration(0.4) == "0 s" and format_duration(59.6) == "1 min" and format_duration(61) == "1 min 1 s"
    assert format_duration(1800) == "30 min" and format_duration(7200, "zh") == "2 小时 0 分钟"
    assert json.loads(json.dumps(STRINGS))  # plain data, JSON-serialisable


# -- reference rule, stopped runs, settings, random reference, verdicts over seeds --------------------
def _row(
    run_id: str,
    model: str,
    seed: int,
    *,
    state: str = "done",
    dataset: str = "ml-100k",
    split: str = "ratio",
    lr: float = 0.01,
    metrics: dict | None = None,
    data_dir: str = "/data",
) -> RunRow:
    config = {
        "data": {"name": dataset, "data_dir": data_dir},
        "split": {"kind": split, "seed": seed},
        "model": {"name": model},
        "train": {"lr": lr, "seed": seed},
        "seed": seed,
    }
    return run_row(
        run_id=run_id,
        state=state,
        name=run_id,
        model=model,
        dataset=dataset,
        split=split,
        seed=seed,
        duration_s=None,
        metrics={"ndcg@10": 0.1} if metrics is None else metrics,
        config=config,
        has_results=True,
    )


def _by_name(groups: list[RunGroup]) -> dict[str, RunGroup]:
    return {g.name: g for g in groups}


def test_default_reference_is_the_finished_baseline_with_most_seeds_never_the_newest() -> None:
    rows = (
        [_row(f"enh-s{s}", "enhanced", s) for s in range(3)]  # newest first, as list_rows gives them
        + [_row(f"mf-1m-s{s}", "mf", s, dataset="ml-1m") for s in range(5)]  # other dataset
        + [_row(f"mf-cold-s{s}", "mf", s, split="cold-items") for s in range(5)]  # other split
        + [_row(f"mf-stop-s{s}", "mf", s, state="stopped", lr=0.5) for s in range(4)]  # not finished
        + [_row(f"pop-s{s}", "pop", s) for s in range(5)]
        + [_row(f"mf-s{s}", "mf", s) for s in range(2)]
    )
    groups = group_runs(rows, include_stopped=True)
    mf = next(g for g in groups if g.runs[0].run_id == "mf-s0")
    assert default_reference(groups) == mf.key  # mf before pop, though pop has more seeds
    enh = next(g for g in groups if g.model == "enhanced")
    assert default_reference([enh]) is None  # no baseline selected: the user picks, no recency pick
    assert default_reference([enh], candidates=groups) == mf.key  # proposed from all groups
    no_mf = [g for g in groups if g.key != mf.key]
    pop = next(g for g in groups if g.model == "pop")
    assert default_reference(no_mf) == pop.key
    # On ml-1m the only baseline is the ml-1m MF group.
    one_m = next(g for g in groups if g.runs[0].run_id == "mf-1m-s0")
    enh_1m = group_runs([_row(f"e1m-s{s}", "enhanced", s, dataset="ml-1m") for s in range(2)])[0]
    assert default_reference([enh_1m, *groups]) == one_m.key
    # Most seeds wins among baselines of the same model; then the seeds shared with the others.
    more = group_runs([_row(f"mf2-s{s}", "mf", s, lr=0.02) for s in range(3)] + rows)
    assert _by_name(more)[next(n for n in _by_name(more) if "lr=0.02" in n)].key == default_reference(more)
    ties = group_runs([_row("x-s7", "mf", 7, lr=0.3), _row("y-s1", "mf", 1, lr=0.4), _row("e-s1", "enhanced", 1)])
    assert default_reference(ties) == next(g.key for g in ties if g.runs[0].run_id == "y-s1")


def test_stopped_runs_only_on_request_marked_and_runs_without_metrics_never() -> None:
    rows = [
        _row("mf-s0", "mf", 0),
        _row("mf-s1", "mf", 1, state="stopped"),
        _row("mf-s2", "mf", 2, metrics={}),
        _row("mf-s3", "mf", 3, state="failed"),
    ]
    assert [g.seeds for g in group_runs(rows)] == [(0,)]
    both = group_runs(rows, include_stopped=True, stopped_mark="已停止")
    assert sorted(g.seeds for g in both) == [(0,), (1,)]  # never grouped with the finished run
    stopped = next(g for g in both if g.stopped)
    assert stopped.name.endswith("(已停止)") and not stopped.all_done
    assert [g.key for g in single_groups(rows)] == ["mf-s0"]
    singles = single_groups(rows, include_stopped=True)
    assert [g.name for g in singles] == ["mf-s0", "mf-s1 (stopped)"]
    assert default_reference(both) == next(g.key for g in both if not g.stopped)


def test_groups_on_another_dataset_or_split_are_not_compared() -> None:
    def never(run_id: str) -> pd.DataFrame:
        raise AssertionError(f"read {run_id}: a mismatched group must not be read")

    ref = group_runs([_row("mf-s0", "mf", 0)])[0]
    other = group_runs([_row("e1m-s0", "enhanced", 0, dataset="ml-1m")])[0]
    cold = group_runs([_row("ec-s0", "enhanced", 0, split="cold-items")])[0]
    comps = compare_groups(ref, [other, cold], never, ["ndcg@10"], n_boot=20)
    assert "ml-100k" in comps[0].error and "ml-1m" in comps[0].error and not comps[0].rows
    assert "split ratio" in comps[1].error and "split cold-items" in comps[1].error
    assert setting_mismatch(ref.runs[0].config, _row("mf-s9", "mf", 9, data_dir="/elsewhere").config) is None
    assert setting_mismatch(ref.runs[0].config, other.runs[0].config) == (
        "dataset ml-100k, split ratio",
        "dataset ml-1m, split ratio",
    )


def test_random_reference_and_times_random(rows: list, tmp_path: Path) -> None:
    fake = {
        "a": {"test": {"primary": {"random": {"ndcg@10": 0.1, "hit@10": 0.3}}}},
        "b": {"test": {"primary": {"random": {"ndcg@10": 0.2, "hit@10": None}}}},
        "c": {"test": {"primary": {"metrics": {"ndcg@10": 0.5}}}},
    }  # an old run: no random reference
    group = RunGroup("k", "g", tuple(_row(r, "mf", i) for i, r in enumerate("abc")))
    assert random_reference(group, fake.get) == pytest.approx({"ndcg@10": 0.15, "hit@10": 0.3})
    assert random_reference(RunGroup("k", "g", (_row("c", "mf", 0),)), fake.get) == {}
    store = RunStore(tmp_path / "runs")
    mf, enh = (g for g in sorted(group_runs(rows), key=lambda g: g.model != "mf"))
    comps = compare_groups(
        mf, [enh], lambda rid: store.get(rid).read_table("per_user_test"), ["ndcg@10", "hit@10"], n_boot=100
    )
    diffs = differences_table(comps, {"ndcg@10": 0.05})
    nd = diffs[diffs["metric"] == "ndcg@10"].iloc[0]
    assert nd["x_random"] == pytest.approx(nd["value"] / 0.05)
    assert diffs[diffs["metric"] == "hit@10"]["x_random"].isna().all()
    assert set(diffs["method"]) == {"seed-t-test"} and set(diffs["n_seeds"]) == {2}
    # The real runs write the random reference beside their metrics (absent on old runs).
    real = random_reference(mf, lambda rid: store.get(rid).results())
    if real:
        assert 0 < real["ndcg@10"] < min(r.metrics["ndcg@10"] for r in mf.runs)


def test_verdict_sentences_name_seeds_users_and_method() -> None:
    from rec_app.ui.compare_view import differences_display, verdict_sentences
    from tests.test_eval_compare import DISAGREE, _seed_case

    a, b = _seed_case(DISAGREE)
    three = compare_seeds(a, b, "ndcg@10", n_boot=300)
    one = compare_seeds({0: a[0]}, {0: b[0]}, "ndcg@10", n_boot=300)
    comps = [
        GroupComparison("new", "mf", three.seeds, three.n_users, (three,)),
        GroupComparison("one", "mf", one.seeds, one.n_users, (one,), unpaired_seeds=(1, 2)),
    ]
    en = verdict_sentences(comps, ["ndcg@10"], "en")
    assert "1200 paired users, 3 seed(s), t-test over seeds" in en[0]
    assert "inconclusive on 1 metric(s)" in en[0] and "better" not in en[0]
    assert f"about {three.seeds_needed} seeds would decide NDCG@10" in en[0]
    # One seed: the user-level test is overwhelming, and still no verdict is drawn.
    assert one.user_p_value < 1e-6 and "1 seed(s), Wilcoxon over users" in en[1]
    assert "better" not in en[1] and "no verdict on 1 metric(s)" in en[1]
    assert "seed variation is not covered" in en[1] and "left out: 1, 2" in en[1]
    zh = verdict_sentences(comps, ["ndcg@10"], "zh")
    assert "3 个种子" in zh[0] and "未涵盖种子间的波动" in zh[1] and "尚无定论" in zh[0]
    table = differences_display(differences_table(comps, {"ndcg@10": 0.1}), ["ndcg@10"], "en")
    assert {"p", "p (Holm)", "Test", "× random", "Verdict", "Seeds needed", "p over users (secondary)"} <= set(
        table.columns
    )
    assert table["Test"].iloc[0] == "t-test over seeds · 3 seed(s), 1200 users"
    assert table["× random"].iloc[0].endswith("×")
    assert list(table["Verdict"]) == ["inconclusive", "no verdict (1 seed)"]
    assert table["Seeds needed"].iloc[0] == str(three.seeds_needed) and table["Seeds needed"].iloc[1] == "–"
    assert table["p"].iloc[1] == "–" and table["95% CI"].iloc[1] == "–"  # no seed-level test at one seed


def test_page_family_is_holm_adjusted_over_the_metrics_shown() -> None:
    from rec_app.compare.table import adjust_for_multiplicity
    from tests.test_eval_compare import _seed_case

    a, b = _seed_case([0.02, 0.03, 0.025])
    rows = tuple(compare_seeds(a, b, m) for m in ("ndcg@10",))
    comps = [GroupComparison(g, "mf", rows[0].seeds, rows[0].n_users, rows) for g in ("x", "y", "z")]
    adjusted = adjust_for_multiplicity(comps, ["ndcg@10"])
    assert all(gc.rows[0].n_compared == 3 for gc in adjusted)
    assert adjusted[0].rows[0].p_adjusted == pytest.approx(min(1.0, 3 * rows[0].p_value))
    untouched = adjust_for_multiplicity(comps, ["hit@10"])  # not shown: not in the family
    assert untouched[0].rows[0] == rows[0]


def test_tested_weights_table_names_the_phase_of_each_runs_restored_weights() -> None:
    import dataclasses

    from rec_app.compare.table import tested_weights_table

    done = {"state": "finished", "best_epoch": 10, "best_phase": "dynamic", "summary": "finished: all 10 epochs"}
    cached = {
        "state": "finished",
        "best_epoch": 3,
        "best_phase": "cached",
        "note": "the dynamic phase did not improve validation",
        "summary": "",
    }
    rows = [
        dataclasses.replace(_row("s3-s0", "enhanced", 0), completion=done),
        dataclasses.replace(_row("s3-s1", "enhanced", 1), completion=cached),
    ]
    table = tested_weights_table(group_runs(rows)).set_index("seed")
    assert table.loc[0, "best_phase"] == "dynamic" and table.loc[0, "best_epoch"] == 10
    assert table.loc[0, "summary"] == "finished: all 10 epochs"
    # Without a summary line the row falls back to the epoch/phase text, note included.
    assert table.loc[1, "best_phase"] == "cached" and "did not improve" in table.loc[1, "summary"]


# -- groups: every setting that changes results, one run per seed ----------------------------------
def test_runs_whose_results_differ_in_processes_warm_start_backbone_or_code_are_not_one_group() -> None:
    """Issue 23, item 1: a Processes=2 MF run joined the 1-process MF group as a 4th seed."""
    one = [dataclasses.replace(_row(f"mf-s{s}", "mf", s, state="done"), setting={"code": "a"}) for s in range(3)]
    for other in (
        {"code": "a", "processes": 2},
        {"code": "b"},  # other training code
        {"code": "a", "warm_start": {"model": {"reg_weight": 0.01}, "train": {"lr": 0.002}}},
        {"code": "a", "backbone_identity": "other weights"},
    ):
        extra = dataclasses.replace(_row("mf-s3", "mf", 3, state="done"), setting=other)
        groups = group_runs([*one, extra])
        assert sorted(len(g.runs) for g in groups) == [1, 3], other
        assert len({g.name for g in groups}) == 2  # and they are told apart by name
    code = [
        dataclasses.replace(_row(f"m-s{s}", "mf", s, lr=0.01 * (1 + s)), setting={"code": f"{s}" * 16})
        for s in range(2)
    ]
    names = sorted(g.name for g in group_runs(code))  # config first, then what the results record, hex cut
    assert names == ["MF (lr=0.01, code=0000000)", "MF (lr=0.02, code=1111111)"], names
    assert len(group_runs([*one, dataclasses.replace(one[0], run_id="x", seed=3)])) == 1


def test_a_repeated_seed_is_flagged_and_never_counted_as_seed_variation() -> None:
    """Issue 23, item 16: "Runs 3 · 0.0577 ± 0.0000" from three runs of one seed."""
    from datetime import datetime, timezone

    t = [datetime(2026, 1, 1, h, tzinfo=timezone.utc) for h in range(4)]
    rows = [
        dataclasses.replace(_row("a", "mf", 0, state="done"), finished_at=t[0]),
        dataclasses.replace(_row("b", "mf", 0, state="done", metrics={"ndcg@10": 0.2}), finished_at=t[2]),
        dataclasses.replace(_row("c", "mf", 0, state="done"), finished_at=t[1]),
        dataclasses.replace(_row("d", "mf", 1, state="done"), finished_at=t[3]),
    ]
    (group,) = group_runs(rows)
    assert group.seeds == (0, 1) and [r.run_id for r in group.runs] == ["b", "d"]  # the newest of seed 0
    assert [r.run_id for r in group.duplicates] == ["a", "c"]
    summary = summary_table([group])
    assert summary["n"].iloc[0] == 2  # distinct seeds, not runs


def test_single_runs_mode_opens_on_one_seed() -> None:
    rows = [_row("e-s1", "enhanced", 1, state="done"), _row("mf-s0", "mf", 0, state="done")]
    rows += [_row("mf-s1", "mf", 1, state="done")]
    chosen = initial_selection(single_groups(rows))
    assert sorted(chosen) == ["e-s1", "mf-s1"]  # the newest run's seed; never a seed it cannot pair with


def test_latex_writes_signs_as_commands_names_its_packages_and_the_labels() -> None:
    from rec_app.compare.export import export_frame, to_latex

    rows = [_row(f"e-s{s}", "enhanced", s, metrics={"ndcg@10": 0.1 + s / 100}) for s in range(2)]
    rows += [_row(f"m-s{s}", "mf", s, metrics={"ndcg@10": 0.1}) for s in range(2)]
    summary = summary_table(group_runs(rows), ["ndcg@10"])
    tex = to_latex(summary, ["ndcg@10"], note="± over seeds · † significant")
    body = tex.split("\n", 1)[1]
    assert tex.startswith("% \\usepackage{booktabs}") and "ctex" not in tex.splitlines()[0]
    assert not any(ch in body for ch in "·±×†")  # every sign as a LaTeX command
    assert "$\\pm$" in body and "\\textperiodcentered{}" in body
    full = dict(zip(summary["group"], summary["group_full"]))
    legend = [f"{k}: {v}".replace("·", "\\textperiodcentered{}") for k, v in full.items() if k != v]
    assert legend and all(entry in tex for entry in legend)  # the caption names each short label in full
    assert set(export_frame(summary, differences_table([]), ["ndcg@10"])["group_full"]) == set(full.values())
    zh = summary_table(group_runs(rows, lang="zh"), ["ndcg@10"])
    assert "ctex" in to_latex(zh, ["ndcg@10"]).splitlines()[0]
