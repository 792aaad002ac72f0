"""Console rendering for the CLI: a progress bar per run and plain-text tables."""
from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["ConsoleProgress", "format_results", "format_comparison", "format_runs", "format_table"]


class ConsoleProgress:
    """Receives `execute_run` progress events and draws a tqdm bar over epochs (stderr)."""

    def __init__(self, run_id: str, enabled: bool = True) -> None:
        self.run_id = run_id
        self.enabled = enabled
        self._bar: Any = None

    def __call__(self, info: dict[str, Any]) -> None:
        if not self.enabled:
            return
        event = info.get("event")
        if event == "epoch":
            if self._bar is None:
                from tqdm import tqdm

                self._bar = tqdm(total=info["epochs"], desc=self.run_id, unit="epoch", file=sys.stderr,
                                 dynamic_ncols=True)
            self._bar.total = max(self._bar.total, info["epoch"])
            self._bar.update(info["epoch"] - self._bar.n)
            post = {"loss": f"{info['loss'].get('total', float('nan')):.4f}"}
            valid = info.get("valid") or {}
            if "ndcg@10" in valid:
                post["val_ndcg@10"] = f"{valid['ndcg@10']:.4f}"
            self._bar.set_postfix(post, refresh=True)
        elif event == "phase" and self._bar is None:
            print(f"{self.run_id}: {info['phase']}", file=sys.stderr)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    sep = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.rjust(w) if _is_num(c) else c.ljust(w) for c, w in zip(r, widths)) for r in cells]
    return "\n".join([line, sep, *body])


def _is_num(s: str) -> bool:
    try:
        float(s.replace("%", ""))
        return True
    except ValueError:
        return False


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return f"{v:.4f}"
    return str(v)


def format_results(results: dict[str, Any]) -> str:
    """Final metrics table of a run: rows = metrics, columns = valid / test (primary, all items)."""
    test = results["test"]
    valid = results["valid"]["primary"]["metrics"]
    cols = [("valid", valid), ("test", test["primary"]["metrics"])]
    if "all_items" in test:
        cols = [("valid (cold)", valid), ("test (cold items)", test["primary"]["metrics"]),
                ("test (all items)", test["all_items"]["metrics"])]
    names = sorted(cols[1][1], key=_metric_order)
    rows = [[m] + [c.get(m, float("nan")) for _, c in cols] for m in names]
    head = (f"{results['model']} on {results['dataset']['name']} ({results['split']['kind']} split), "
            f"best epoch {results['best_epoch']} of {results['epochs_run']}, "
            f"{results['test']['primary']['n_users']} test users")
    return head + "\n" + format_table(["metric"] + [n for n, _ in cols], rows)


def _metric_order(name: str) -> tuple[int, str]:
    base, _, k = name.partition("@")
    order = ["hit", "ndcg", "recall", "mrr", "precision"]
    return (int(k) if k.isdigit() else 0, f"{order.index(base) if base in order else 9}{base}")


_METHOD_WORDS = {
    "hierarchical-bootstrap": "CI and p from a two-level bootstrap (seeds, then users within them)",
    "seed-t-test": "p from a t-test over the per-seed differences; CI from a two-level bootstrap (seeds, then users)",
    "user-wilcoxon": "Wilcoxon signed-rank p and paired bootstrap CI over users; ONE seed: seed variation not covered",
}


def format_comparison(a: str, b: str, rows: Sequence[Any], random: dict[str, float] | None = None) -> str:
    """Table of seed-aware comparisons (B - A; `SeedAwareComparison` rows), with CI, p-value,
    what they rest on (users, seeds, method), the random ranking's expected metrics and a
    verdict in words: "better"/"worse" only when significant."""
    random = random or {}
    body = []
    for r in rows:
        verdict = ("B better" if r.diff > 0 else "B worse") if r.significant else "no significant difference"
        rel = "nan" if math.isnan(r.rel_diff) else f"{100 * r.rel_diff:+.1f}%"
        x_rnd = f"{r.mean_b / random[r.metric]:.1f}x" if random.get(r.metric) else "-"
        body.append([r.metric, r.mean_a, r.mean_b, f"{r.diff:+.4f}", rel,
                     f"[{r.ci_low:+.4f}, {r.ci_high:+.4f}]", f"{r.p_value:.2g}", x_rnd, verdict])
    first = rows[0] if rows else None
    seeds = tuple(getattr(first, "seeds", ()))
    method = getattr(first, "method", "user-wilcoxon")
    head = [f"A = {a} (reference)", f"B = {b}",
            f"paired over {first.n_users if first else 0} users in {len(seeds) or 1} seed(s)"
            + (f" ({', '.join(map(str, seeds))})" if seeds else "") + f"; {_METHOD_WORDS.get(method, method)}"]
    if random:
        shown = [m for m in (r.metric for r in rows) if m in random] or sorted(random, key=_metric_order)
        head.append("random ranking (expected, mean over A's seeds): "
                    + ", ".join(f"{m} {random[m]:.4f}" for m in shown))
    else:
        head.append("random ranking (expected): not recorded by these runs")
    table = format_table(["metric", "A", "B", "B-A", "rel", "95% CI", "p", "B x random", "verdict"], body)
    better = [r.metric for r in rows if r.significant and r.diff > 0]
    worse = [r.metric for r in rows if r.significant and r.diff < 0]
    parts = ([f"B significantly better on {', '.join(better)}"] if better else []) + (
        [f"B significantly worse on {', '.join(worse)}"] if worse else [])
    rest = len(rows) - len(better) - len(worse)
    if rest:
        parts.append(f"no significant difference on {rest} metric(s)")
    lines = [*head, table, "verdict: " + ("; ".join(parts) or "nothing compared")]
    if first is not None and getattr(first, "note", ""):
        lines.append(f"note: {first.note}")
    lines.append("(an improvement is called only when p < 0.05 and the CI excludes 0)")
    return "\n".join(lines)


def format_runs(summaries: Sequence[Any]) -> str:
    """One line per run: id, state, model, dataset, split, NDCG@10, Hit@10."""
    rows = []
    for s in summaries:
        cfg = s.config or {}
        m = s.metrics or {}
        rows.append([s.run_id, s.state, (cfg.get("model") or {}).get("name", "?"),
                     (cfg.get("data") or {}).get("name", "?"), (cfg.get("split") or {}).get("kind", "?"),
                     m.get("ndcg@10", float("nan")), m.get("hit@10", float("nan"))])
    if not rows:
        return "no runs"
    return format_table(["run", "state", "model", "dataset", "split", "ndcg@10", "hit@10"], rows)
