"""The Compare page's numbers: groups of runs that differ only by seed, mean +- std tables,
paired differences to a reference (bootstrap CI, Wilcoxon p), segments, CSV and LaTeX.

Pure functions over `RunRow`s and per-user tables; reading files is the caller's business
(passed in as functions), so everything here is testable without a run store.

Pairing: two runs made with the same seed share the split, so their per-user test values
pair up user by user. A group of several seeds is compared with another group over the
(seed, user) pairs of the seeds both have.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from rec_core.errors import ConfigError, RecCoreError
from rec_core.evaluate import PairedComparison, compare_all, seed_summary
from rec_core.run_table import RunRow

__all__ = [
    "TABLE_METRICS", "ITEM_SEGMENT_ORDER", "USER_SEGMENT_ORDER", "RunGroup", "GroupComparison",
    "group_runs", "single_groups", "summary_table", "format_mean_std", "compare_groups",
    "differences_table", "verdict", "export_frame", "to_latex", "segment_table", "seedless_config",
]

TABLE_METRICS: tuple[str, ...] = tuple(f"{m}@{k}" for m in ("hit", "ndcg", "recall", "mrr") for k in (5, 10, 20))
ITEM_SEGMENT_ORDER: tuple[str, ...] = ("cold", "tail", "torso", "head")
USER_SEGMENT_ORDER: tuple[str, ...] = ("low", "mid", "high")
_SEED_PATHS = (("seed",), ("label",), ("split", "seed"), ("train", "seed"))


@dataclass(frozen=True)
class RunGroup:
    """Runs whose configs are equal except for the seed (and the free-text label)."""

    key: str  # hash of the seedless config
    name: str  # shown in tables and legends
    runs: tuple[RunRow, ...]  # sorted by seed

    @property
    def seeds(self) -> tuple[int | None, ...]:
        return tuple(r.seed for r in self.runs)

    def run_for_seed(self, seed: int | None) -> RunRow | None:
        return next((r for r in self.runs if r.seed == seed), None)


def seedless_config(config: dict[str, Any]) -> dict[str, Any]:
    """`config` without the fields that only change the seed or the label (deep copy)."""
    out = json.loads(json.dumps(config, default=str))
    for path in _SEED_PATHS:
        node = out
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)
    return out


def _key(config: dict[str, Any]) -> str:
    text = json.dumps(seedless_config(config), sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(d, dict):
        return {prefix.rstrip("."): d}
    out: dict[str, Any] = {}
    for k, v in d.items():
        out.update(_flatten(v, f"{prefix}{k}."))
    return out


def _base_name(row: RunRow) -> str:
    parts = [row.model, row.preset, row.backbone if row.backbone else "", row.dataset, row.split]
    return "-".join(p for p in parts if p)


def _disambiguate(names: list[str], configs: list[dict[str, Any]]) -> list[str]:
    """Append the settings that differ to names that would otherwise collide (e.g. `lr=0.01`)."""
    out = list(names)
    for name in set(names):
        idx = [i for i, n in enumerate(names) if n == name]
        if len(idx) < 2:
            continue
        flat = [_flatten(seedless_config(configs[i])) for i in idx]
        keys = sorted({k for f in flat for k in f})
        differing = [k for k in keys if len({json.dumps(f.get(k), default=str) for f in flat}) > 1]
        for i, f in zip(idx, flat):
            extra = ", ".join(f"{k.rsplit('.', 1)[-1]}={f.get(k)}" for k in differing[:3])
            out[i] = f"{name} ({extra})" if extra else name
    return out


def group_runs(rows: Sequence[RunRow]) -> list[RunGroup]:
    """Comparable runs grouped by seedless config, in the order of each group's newest run."""
    buckets: dict[str, list[RunRow]] = {}
    for row in rows:
        if row.comparable:
            buckets.setdefault(_key(row.config), []).append(row)
    keys = list(buckets)
    names = []
    for key in keys:
        labels = {r.config.get("label") or "" for r in buckets[key]}
        label = labels.pop() if len(labels) == 1 else ""
        names.append(label or _base_name(buckets[key][0]))
    names = _disambiguate(names, [buckets[k][0].config for k in keys])
    return [RunGroup(k, n, tuple(sorted(buckets[k], key=lambda r: (r.seed is None, r.seed or 0))))
            for k, n in zip(keys, names)]


def single_groups(rows: Sequence[RunRow]) -> list[RunGroup]:
    """One group per comparable run (for comparing individual runs), named by the run (its
    full id where two runs would share a name)."""
    usable = [r for r in rows if r.comparable]
    names = [r.name for r in usable]
    return [RunGroup(r.run_id, r.name if names.count(r.name) == 1 else r.run_id, (r,)) for r in usable]


def format_mean_std(mean: float, std: float, n: int, digits: int = 4) -> str:
    """`0.1234 ± 0.0056` over n > 1 seeds, `0.1234` for one run, `–` when missing."""
    if mean is None or not math.isfinite(mean):
        return "–"
    if n > 1 and std is not None and math.isfinite(std):
        return f"{mean:.{digits}f} ± {std:.{digits}f}"
    return f"{mean:.{digits}f}"


def summary_table(groups: Sequence[RunGroup], metrics: Sequence[str] = TABLE_METRICS) -> pd.DataFrame:
    """One row per group: `group`, `n` (runs), then `<metric>` (mean) and `<metric> std` columns."""
    records = []
    for g in groups:
        rec: dict[str, Any] = {"group": g.name, "n": len(g.runs)}
        for m in metrics:
            values = [r.metrics[m] for r in g.runs if m in r.metrics and math.isfinite(r.metrics[m])]
            mean, std = seed_summary(values) if values else (math.nan, math.nan)
            rec[m], rec[f"{m} std"] = mean, std
        records.append(rec)
    columns = ["group", "n"] + [c for m in metrics for c in (m, f"{m} std")]
    return pd.DataFrame.from_records(records, columns=columns)


@dataclass(frozen=True)
class GroupComparison:
    """Paired comparison of one group against the reference, or why it could not be made."""

    group: str
    reference: str
    seeds: tuple[int | None, ...]  # the seeds whose runs were paired
    n_pairs: int  # (seed, user) pairs
    rows: tuple[PairedComparison, ...] = ()
    error: str | None = None


def _paired_frames(ref: RunGroup, other: RunGroup, read: Callable[[str], pd.DataFrame]
                   ) -> tuple[pd.DataFrame, pd.DataFrame, tuple[int | None, ...]]:
    if len(ref.runs) == 1 and len(other.runs) == 1:
        pairs = [(ref.runs[0], other.runs[0])]  # two single runs: paired as the CLI does
    else:
        common = [s for s in ref.seeds if s in set(other.seeds)]
        if not common:
            raise ConfigError("seeds", f"{other.name!r} and {ref.name!r} have no seed in common, "
                                       "so their users cannot be paired")
        pairs = [(ref.run_for_seed(s), other.run_for_seed(s)) for s in common]  # type: ignore[misc]
    frames_a, frames_b = [], []
    for a_run, b_run in pairs:
        a, b = read(a_run.run_id), read(b_run.run_id)
        tag = f"{a_run.seed}:"
        frames_a.append(a.assign(user=tag + a["user"].astype(str)))
        frames_b.append(b.assign(user=tag + b["user"].astype(str)))
    seeds = tuple(a.seed for a, _ in pairs)
    return pd.concat(frames_a, ignore_index=True), pd.concat(frames_b, ignore_index=True), seeds


def compare_groups(reference: RunGroup, others: Sequence[RunGroup], read: Callable[[str], pd.DataFrame],
                   metrics: Sequence[str] = TABLE_METRICS, *, n_boot: int = 2000,
                   alpha: float = 0.05) -> list[GroupComparison]:
    """Each of `others` against `reference` on `metrics`; `read(run_id)` gives a per-user table.

    A group that cannot be compared (no shared seed, different users, unreadable table)
    gets a GroupComparison with `error` set; the others are unaffected.
    """
    out = []
    for g in others:
        if g.key == reference.key:
            continue
        try:
            a, b, seeds = _paired_frames(reference, g, read)
            present = [m for m in metrics if m in a.columns and m in b.columns]
            rows = compare_all(a, b, present, n_boot=n_boot, alpha=alpha)
            n = rows[0].n_users if rows else 0
            out.append(GroupComparison(g.name, reference.name, seeds, n, tuple(rows)))
        except (RecCoreError, OSError, KeyError, ValueError) as exc:
            out.append(GroupComparison(g.name, reference.name, (), 0, error=str(exc)))
    return out


def verdict(c: PairedComparison) -> str:
    """`better` / `worse` when significant (p < alpha and the CI excludes 0), else `ns`."""
    if not c.significant:
        return "ns"
    return "better" if c.diff > 0 else "worse"


def differences_table(comparisons: Sequence[GroupComparison]) -> pd.DataFrame:
    """Long table: group, metric, reference, value, diff, rel_diff, ci_low, ci_high, p_value,
    n_pairs, verdict (one row per group and metric; failed comparisons are left out)."""
    records = [
        {"group": gc.group, "metric": c.metric, "reference": c.mean_a, "value": c.mean_b, "diff": c.diff,
         "rel_diff": c.rel_diff, "ci_low": c.ci_low, "ci_high": c.ci_high, "p_value": c.p_value,
         "n_pairs": c.n_users, "verdict": verdict(c)}
        for gc in comparisons if gc.error is None for c in gc.rows
    ]
    columns = ["group", "metric", "reference", "value", "diff", "rel_diff", "ci_low", "ci_high",
               "p_value", "n_pairs", "verdict"]
    return pd.DataFrame.from_records(records, columns=columns)


def export_frame(summary: pd.DataFrame, diffs: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Long table for CSV: one row per (group, metric) with mean, std, n and the difference
    columns to the reference (empty for the reference itself)."""
    long = []
    for _, row in summary.iterrows():
        for m in metrics:
            long.append({"group": row["group"], "metric": m, "mean": row[m], "std": row[f"{m} std"],
                         "n_runs": int(row["n"])})
    out = pd.DataFrame.from_records(long, columns=["group", "metric", "mean", "std", "n_runs"])
    keep = ["group", "metric", "diff", "rel_diff", "ci_low", "ci_high", "p_value", "n_pairs", "verdict"]
    return out.merge(diffs[keep], on=["group", "metric"], how="left")


_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _tex(text: str) -> str:
    return "".join(_LATEX_ESCAPES.get(ch, ch) for ch in str(text))


def to_latex(summary: pd.DataFrame, metrics: Sequence[str], diffs: pd.DataFrame | None = None, *,
             metric_label: Callable[[str], str] = str, caption: str = "", note: str = "",
             group_header: str = "Model", digits: int = 4) -> str:
    """A booktabs table (rows: groups; columns: metrics as mean ± std). The best mean of each
    column is bold; a significant improvement over the reference gets a dagger."""
    better = set()
    if diffs is not None and not diffs.empty:
        better = {(g, m) for g, m, v in zip(diffs["group"], diffs["metric"], diffs["verdict"]) if v == "better"}
    best = {m: summary[m].max(skipna=True) for m in metrics}
    lines = [r"\begin{table}[t]", r"\centering", r"\small",
             r"\begin{tabular}{l" + "c" * len(metrics) + "}", r"\toprule",
             " & ".join([_tex(group_header)] + [_tex(metric_label(m)) for m in metrics]) + r" \\",
             r"\midrule"]
    for _, row in summary.iterrows():
        cells = [_tex(row["group"])]
        for m in metrics:
            mean, std = row[m], row[f"{m} std"]
            if not math.isfinite(mean):
                cells.append("--")
                continue
            value = f"{mean:.{digits}f}"
            if mean == best[m]:
                value = rf"\textbf{{{value}}}"
            if int(row["n"]) > 1 and math.isfinite(std):
                value += rf" $\pm$ {std:.{digits}f}"
            if (row["group"], m) in better:
                value += r"$^{\dagger}$"
            cells.append(value)
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if caption or note:
        lines.append(r"\caption{" + _tex(caption) + (" " + _tex(note) if note else "") + "}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def _segment_name(label: str) -> tuple[str, str] | None:
    """("item", "tail") or ("user", "low") from a results segment key; None for others."""
    if label in ITEM_SEGMENT_ORDER:
        return "item", label
    if label.startswith("users:"):
        name = label[len("users:"):].split(" ", 1)[0]
        if name in USER_SEGMENT_ORDER:
            return "user", name
    return None


def segment_table(groups: Sequence[RunGroup], read_results: Callable[[str], dict[str, Any] | None],
                  metric: str) -> pd.DataFrame:
    """Per group and segment: kind (item | user), segment, mean, std over seeds, n_users (mean).

    Segments without users (e.g. no cold items in a ratio split) are left out.
    """
    records = []
    for g in groups:
        values: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for run in g.runs:
            try:
                segments = (read_results(run.run_id) or {})["test"]["primary"]["segments"]
            except (KeyError, TypeError):
                continue
            for label, seg in segments.items():
                named = _segment_name(label)
                value = seg.get(metric) if isinstance(seg, dict) else None
                if named is None or value is None or not seg.get("n_users"):
                    continue
                values.setdefault(named, []).append((float(value), float(seg["n_users"])))
        for (kind, name), pairs in values.items():
            mean, std = seed_summary([v for v, _ in pairs])
            records.append({"group": g.name, "kind": kind, "segment": name, "mean": mean, "std": std,
                            "n_runs": len(pairs), "n_users": sum(n for _, n in pairs) / len(pairs)})
    frame = pd.DataFrame.from_records(records, columns=["group", "kind", "segment", "mean", "std", "n_runs",
                                                        "n_users"])
    order = {s: i for i, s in enumerate(ITEM_SEGMENT_ORDER + USER_SEGMENT_ORDER)}
    return frame.sort_values(by="segment", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
