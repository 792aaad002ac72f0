"""The Compare page's tables and verdicts in words: the strings of the comparison, the same on
the page and in the defence report (`rec_app.report`). Pure functions; no Streamlit."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from rec_app.compare.groups import RunGroup
from rec_app.compare.table import PRIMARY_METRIC, GroupComparison, format_mean_std
from rec_app.i18n import metric_label, part_metric_label, t

__all__ = [
    "group_label",
    "duplicate_notes",
    "labels_table",
    "summary_display",
    "differences_display",
    "verdict_sentences",
    "format_p",
    "format_seeds_needed",
    "method_label",
    "format_x_random",
]


def group_label(g: RunGroup, lang: str) -> str:
    """Name plus how many seeds (or the run id for a single run)."""
    if len(g.runs) > 1:
        return f"{g.name} · {t('compare.n_seeds', lang, n=len(g.runs))}"
    return g.name


def duplicate_notes(groups: Sequence[RunGroup], lang: str) -> list[str]:
    """One warning per group that holds a seed more than once: which runs were left out (every
    number uses one run per seed, the newest), so a repeated seed never passes for seed variation."""
    out = []
    for g in groups:
        if g.duplicates:
            out.append(
                t(
                    "compare.duplicates",
                    lang,
                    group=g.name,
                    n=len(g.duplicates),
                    runs=", ".join(f"{r.run_id} ({t('col.seed', lang)} {r.seed})" for r in g.duplicates),
                )
            )
    return out


def labels_table(groups: Sequence[RunGroup], lang: str) -> pd.DataFrame:
    """Short label -> what it stands for in full (and how many seeds), for the page's legend."""
    return pd.DataFrame(
        {
            t("col.group", lang): [g.name for g in groups],
            t("compare.col_full_name", lang): [g.title for g in groups],
            t("col.runs", lang): [len(g.runs) for g in groups],
        }
    )


def summary_display(
    summary: pd.DataFrame,
    metrics: Sequence[str],
    lang: str,
    random: Mapping[str, float] | None = None,
    random_runs: int = 0,
) -> pd.DataFrame:
    """Strings `mean ± std` per test metric (4 decimals, columns `test NDCG@10`, ...), one row per
    group; with `random` (the
    reference group's `random_reference`) a last row "Random ranking (expected)", the mean over
    its `random_runs` runs."""
    out = pd.DataFrame({t("col.group", lang): summary["group"], t("col.runs", lang): summary["n"]})
    for m in metrics:
        out[part_metric_label(m, "test", lang)] = [
            format_mean_std(a, b, int(n)) for a, b, n in zip(summary[m], summary[f"{m} std"], summary["n"])
        ]
    if random:
        row = {t("col.group", lang): t("compare.random_row", lang), t("col.runs", lang): random_runs}
        row.update({part_metric_label(m, "test", lang): f"{random[m]:.4f}" if m in random else "–" for m in metrics})
        out = pd.concat([out, pd.DataFrame([row])], ignore_index=True)
    return out


def format_p(p: float) -> str:
    """p-values as people read them: `<0.001`, else three decimals."""
    if p is None or not math.isfinite(p):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def method_label(method: str | None, lang: str) -> str:
    """The test a comparison rests on, in words (`seed-t-test` -> "t-test over seeds")."""
    return t(f"compare.method_{method}", lang, default=str(method))


def format_x_random(x: float) -> str:
    """`3.2×` (value / random ranking's expected value), `–` when unknown."""
    return "–" if x is None or not math.isfinite(x) else f"{x:.1f}×"


def format_seeds_needed(n: object, verdict: str, lang: str) -> str:
    """Seeds an inconclusive comparison would need ("> 100" beyond the estimate's range); "–"
    where nothing is needed (a verdict was reached, one seed, identical runs)."""
    if verdict != "inconclusive":
        return "–"
    if isinstance(n, (int, float)) and math.isfinite(n):
        return str(int(n))
    return t("compare.seeds_needed_more", lang)


def differences_display(diffs: pd.DataFrame, metrics: Sequence[str], lang: str) -> pd.DataFrame:
    """Differences to the reference, filtered to `metrics`, with the seed-level test (p, Holm's
    p, CI), the seeds it rests on, the verdict in words, the seeds an inconclusive comparison
    would need, the user-level p (secondary) and the value as a multiple of the random ranking's."""
    d = diffs[diffs["metric"].isin(list(metrics))]
    marks = {"better": "↑ ", "worse": "↓ "}
    return pd.DataFrame(
        {
            t("col.group", lang): d["group"],
            t("col.metric", lang): [part_metric_label(m, "test", lang) for m in d["metric"]],
            t("col.reference", lang): [f"{v:.4f}" for v in d["reference"]],
            t("col.value", lang): [f"{v:.4f}" for v in d["value"]],
            t("col.diff", lang): [f"{v:+.4f}" for v in d["diff"]],
            t("col.rel_diff", lang): ["–" if not math.isfinite(v) else f"{100 * v:+.1f}%" for v in d["rel_diff"]],
            t("col.ci", lang): [
                "–" if not math.isfinite(a) else f"[{a:+.4f}, {b:+.4f}]" for a, b in zip(d["ci_low"], d["ci_high"])
            ],
            t("compare.col_p", lang): [format_p(p) for p in d["p_value"]],
            t("compare.col_p_holm", lang): [format_p(p) for p in d["p_adjusted"]],
            t("compare.col_method", lang): [
                t("compare.method_cell", lang, method=method_label(m, lang), seeds=int(k), n=int(n))
                for m, k, n in zip(d["method"], d["n_seeds"], d["n_pairs"])
            ],
            t("col.verdict", lang): [marks.get(v, "") + t(f"verdict.{v}", lang) for v in d["verdict"]],
            t("compare.col_seeds_needed", lang): [
                format_seeds_needed(n, v, lang) for n, v in zip(d["seeds_needed"], d["verdict"])
            ],
            t("compare.col_p_users", lang): [format_p(p) for p in d["user_p_value"]],
            t("compare.col_x_random", lang): [format_x_random(x) for x in d["x_random"]],
        }
    )


def verdict_sentences(comparisons: Sequence[GroupComparison], metrics: Sequence[str], lang: str) -> list[str]:
    """One sentence per compared group: where it is significantly better or worse (seed-level
    test, after the adjustment the comparisons carry), where it is inconclusive and how many
    seeds would decide the primary metric, and what that rests on (paired users, seeds, the
    test). With one seed the sentence draws no verdict and says that seed variation is not
    covered."""
    out = []
    for gc in comparisons:
        if gc.error is not None:
            continue
        rows = [c for c in gc.rows if c.metric in metrics]
        better = [metric_label(c.metric, lang) for c in rows if c.verdict == "better"]
        worse = [metric_label(c.metric, lang) for c in rows if c.verdict == "worse"]
        inconclusive = [c for c in rows if c.verdict == "inconclusive"]
        untested = [c for c in rows if c.verdict == "untested"]
        parts = []
        if better:
            parts.append(t("compare.sentence_better", lang, metrics=", ".join(better)))
        if worse:
            parts.append(t("compare.sentence_worse", lang, metrics=", ".join(worse)))
        if inconclusive:
            parts.append(t("compare.sentence_ns", lang, n=len(inconclusive)))
            first = next((c for c in inconclusive if c.metric == PRIMARY_METRIC), inconclusive[0])
            parts.append(
                t(
                    "compare.sentence_needed",
                    lang,
                    n=first.seeds_needed if first.seeds_needed else t("compare.seeds_needed_more", lang),
                    metric=metric_label(first.metric, lang),
                )
            )
        if untested:
            parts.append(t("compare.sentence_untested", lang, n=len(untested)))
        sentence = t(
            "compare.sentence",
            lang,
            group=gc.group,
            reference=gc.reference,
            n=gc.n_pairs,
            seeds=len(gc.seeds),
            method=method_label(gc.method, lang),
            parts="; ".join(parts),
        )
        if len(gc.seeds) == 1:
            sentence += " " + t("compare.one_seed_note", lang)
        if gc.unpaired_seeds:
            sentence += " " + t(
                "compare.unpaired_seeds", lang, seeds=", ".join("?" if s is None else str(s) for s in gc.unpaired_seeds)
            )
        out.append(sentence)
    return out
