"""The Compare page's tables as files: a long CSV (one row per group and metric, with the
seed-aware difference to the reference) and a booktabs LaTeX table for a thesis."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pandas as pd

from rec_app.compare.table import COMPARISON_COLUMNS

__all__ = ["export_frame", "to_latex"]


def _cjk(summary: pd.DataFrame) -> bool:
    """Whether a label holds CJK characters (the table then needs ctex and XeLaTeX)."""
    text = " ".join(str(v) for c in ("group", "group_full") if c in summary for v in summary[c])
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def export_frame(summary: pd.DataFrame, diffs: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Long table for CSV: one row per (group, metric) with the group's full name, the split the
    numbers come from (`part`: test), mean, std, n (distinct seeds) and the difference columns to
    the reference (empty for the reference itself)."""
    long = []
    for _, row in summary.iterrows():
        for m in metrics:
            long.append(
                {
                    "group": row["group"],
                    "group_full": row.get("group_full", row["group"]),
                    "metric": m,
                    "part": "test",
                    "mean": row[m],
                    "std": row[f"{m} std"],
                    "n_runs": int(row["n"]),
                }
            )
    out = pd.DataFrame.from_records(long, columns=["group", "group_full", "metric", "part", "mean", "std", "n_runs"])
    return out.merge(diffs[["group", "metric", *COMPARISON_COLUMNS]], on=["group", "metric"], how="left")


_LATEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


# Signs our labels use, as LaTeX writes them in text mode (plain pdfLaTeX has no glyph for the raw ones).
_LATEX_SIGNS = {"·": r"\textperiodcentered{}", "±": r"$\pm$", "×": r"$\times$", "†": r"$^{\dagger}$", "–": "--"}


def _tex(text: str) -> str:
    return "".join(_LATEX_ESCAPES.get(ch, _LATEX_SIGNS.get(ch, ch)) for ch in str(text))


def to_latex(
    summary: pd.DataFrame,
    metrics: Sequence[str],
    diffs: pd.DataFrame | None = None,
    *,
    metric_label: Callable[[str], str] = str,
    caption: str = "",
    note: str = "",
    group_header: str = "Model",
    digits: int = 4,
) -> str:
    """A booktabs table (rows: groups by short name; columns: metrics as mean ± std). The best
    mean of each column is bold; a significant improvement over the reference gets a dagger;
    the caption says what each short name stands for. Needs `booktabs` (named in a comment at
    the top, with `ctex` when a label is Chinese); signs are written as LaTeX commands."""
    better = set()
    if diffs is not None and not diffs.empty:
        better = {(g, m) for g, m, v in zip(diffs["group"], diffs["metric"], diffs["verdict"]) if v == "better"}
    best = {m: summary[m].max(skipna=True) for m in metrics}
    preamble = r"% \usepackage{booktabs}" + (r" \usepackage{ctex} (XeLaTeX: Chinese labels)" if _cjk(summary) else "")
    lines = [
        preamble,
        r"\begin{table}[t]",
        r"\centering",
        r"\small",
        r"\begin{tabular}{l" + "c" * len(metrics) + "}",
        r"\toprule",
        " & ".join([_tex(group_header)] + [_tex(metric_label(m)) for m in metrics]) + r" \\",
        r"\midrule",
    ]
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
    legend = "; ".join(
        f"{row['group']}: {row['group_full']}"
        for _, row in summary.iterrows()
        if "group_full" in row and row["group_full"] != row["group"]
    )
    if caption or note or legend:
        text = " ".join(x for x in (caption, note, legend + "." if legend else "") if x)
        lines.append(r"\caption{" + _tex(text) + "}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"
