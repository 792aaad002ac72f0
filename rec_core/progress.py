"""Console rendering for the CLI: a progress bar per run and plain-text tables."""

from __future__ import annotations

import math
import re
import sys
import time
from collections.abc import Sequence
from typing import Any

from rec_core.runs.summary import best_epoch_text, completion_summary

__all__ = ["ConsoleProgress", "format_results", "format_comparison", "format_runs", "format_table"]


class ConsoleProgress:
    """Receives `execute_run` progress events and draws them on stderr: a tqdm bar over epochs
    and, below it, one over the steps of the running epoch (with tqdm's rate and ETA), so a
    long epoch shows life; each phase before training is a line with the seconds it took, and
    texts being encoded (a cold feature cache) get a bar of their own, texts per second and ETA."""

    def __init__(self, run_id: str, enabled: bool = True) -> None:
        self.run_id = run_id
        self.enabled = enabled
        self._bar: Any = None
        self._steps: Any = None  # the running epoch's step bar
        self._steps_epoch: int | None = None
        self._texts: Any = None  # the bar of texts being encoded
        self._phase: tuple[str, float] | None = None  # (name, time.monotonic() when it began)

    def _epoch_bar(self, epochs: int) -> Any:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(
                total=epochs, desc=self.run_id, unit="epoch", file=sys.stderr, dynamic_ncols=True, position=0
            )
        return self._bar

    def _end_phase(self) -> None:
        if self._phase is not None:
            name, began = self._phase
            print(f"{self.run_id}: {name} took {time.monotonic() - began:.1f} s", file=sys.stderr)
            self._phase = None

    def _close_texts(self) -> None:
        if self._texts is not None:
            self._texts.close()
            self._texts = None

    def _encode(self, done: int, total: int) -> None:
        """One encoding pass per table (items, then users): a new bar whenever a pass starts."""
        if self._texts is None or done == 0 or self._texts.total != total:
            from tqdm import tqdm

            self._close_texts()
            self._texts = tqdm(
                total=total, desc="encoding texts", unit="text", leave=False, file=sys.stderr, dynamic_ncols=True
            )
        self._texts.update(done - self._texts.n)
        if done >= total:
            self._close_texts()

    def _close_steps(self) -> None:
        if self._steps is not None:
            self._steps.close()
            self._steps, self._steps_epoch = None, None

    def __call__(self, info: dict[str, Any]) -> None:
        if not self.enabled:
            return
        event = info.get("event")
        if event == "encode":
            self._encode(int(info["done"]), int(info["total"]))
            return
        self._close_texts()
        if event == "step":
            self._end_phase()
            self._epoch_bar(int(info.get("epochs") or 0))
            if self._steps is None or self._steps_epoch != info["epoch"]:
                from tqdm import tqdm

                self._close_steps()
                self._steps = tqdm(
                    total=info["steps"],
                    desc=f"epoch {info['epoch']}",
                    unit="step",
                    leave=False,
                    file=sys.stderr,
                    dynamic_ncols=True,
                    position=1,
                )
                self._steps_epoch = info["epoch"]
            self._steps.update(info["step"] - self._steps.n)
            self._steps.set_postfix({"loss": f"{info.get('loss', float('nan')):.4f}"}, refresh=False)
        elif event == "epoch":
            self._end_phase()
            self._close_steps()
            bar = self._epoch_bar(info["epochs"])
            bar.total = max(bar.total, info["epoch"])
            bar.update(info["epoch"] - bar.n)
            post = {"loss": f"{info['loss'].get('total', float('nan')):.4f}"}
            valid = info.get("valid") or {}
            if "ndcg@10" in valid:
                post["val_ndcg@10"] = f"{valid['ndcg@10']:.4f}"
            if info.get("phase") not in (None, "train"):  # scheme 3: cached, then dynamic
                post["phase"] = str(info["phase"])
            bar.set_postfix(post, refresh=True)
        elif event == "phase":
            self._end_phase()
            if self._bar is None:  # before training: one line per phase, then how long it took
                print(f"{self.run_id}: {info['phase']}...", file=sys.stderr)
                self._phase = (str(info["phase"]), time.monotonic())

    def close(self) -> None:
        self._close_texts()
        self._close_steps()
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


def _completion_line(results: dict[str, Any]) -> str:
    """How the run ended, e.g. "finished: all 8 epochs; best epoch 3, cached phase: ..."."""
    completion = results.get("completion")
    if isinstance(completion, dict):
        return completion.get("summary") or completion_summary(completion)
    # A run written before the completion record existed.
    best = best_epoch_text(results.get("best_epoch"), results.get("best_phase"))
    return f"{best} of {results.get('epochs_run', '?')}" if best else ""


def format_results(results: dict[str, Any]) -> str:
    """Final metrics table of a run: rows = metrics, columns = valid / test (primary, all items).

    The head line says how the run ended (finished / stopped, best epoch and its phase) and
    labels the headline number as a test metric. A run stopped before its first epoch has
    no metrics: it gets that line alone.
    """
    where = f"{results['model']} on {results['dataset']['name']} ({results['split']['kind']} split)"
    ended = _completion_line(results)
    if "test" not in results:
        return f"{where}: {ended or 'no test metrics'}; no test metrics (nothing was trained)"
    test = results["test"]
    valid = results["valid"]["primary"]["metrics"]
    cols = [("valid", valid), ("test", test["primary"]["metrics"])]
    if "all_items" in test:
        cols = [
            ("valid (cold)", valid),
            ("test (cold items)", test["primary"]["metrics"]),
            ("test (all items)", test["all_items"]["metrics"]),
        ]
    # The exact expected metrics of a random ranking of the same test candidates: the floor.
    rand = test["primary"].get("random") or {}
    if rand:
        cols.insert(2, ("random (test, expected)", rand))
    names = sorted(cols[1][1], key=_metric_order)
    rows = [[m] + [c.get(m, float("nan")) for _, c in cols] for m in names]
    primary = test["primary"]["metrics"]
    headline = ", ".join(
        f"test {_metric_label(m)} {primary[m]:.4f}" + _times_random(primary[m], rand.get(m))
        for m in ("ndcg@10", "hit@10")
        if m in primary
    )
    head = f"{where}, {ended}\n{headline + ' ' if headline else ''}({test['primary']['n_users']} test users)"
    return head + "\n" + format_table(["metric"] + [n for n, _ in cols], rows)


def _times_random(value: float, random: float | None) -> str:
    """` (random 0.0759: 2.31x)`, or "" when the run has no random reference (older runs)."""
    if random is None or not random > 0 or value is None:
        return ""
    return f" (random {random:.4f}: {value / random:.2f}x)"


def _metric_label(name: str) -> str:
    """ "ndcg@10" -> "NDCG@10", as papers write it."""
    base, _, k = name.partition("@")
    label = {"ndcg": "NDCG", "hit": "Hit", "recall": "Recall", "mrr": "MRR", "precision": "Precision"}.get(base, base)
    return f"{label}@{k}" if k else label


def _metric_order(name: str) -> tuple[int, str]:
    base, _, k = name.partition("@")
    order = ["hit", "ndcg", "recall", "mrr", "precision"]
    return (int(k) if k.isdigit() else 0, f"{order.index(base) if base in order else 9}{base}")


_METHOD_WORDS = {
    "seed-t-test": "the seed is the unit: p from a t-test over the per-seed mean differences, CI its t-interval",
    "user-wilcoxon": "ONE seed: seed noise untested, no verdict; the user-level Wilcoxon p and CI are shown instead",
}


def _fmt_float(x: float, spec: str) -> str:
    return "-" if x is None or not math.isfinite(x) else format(x, spec)


def verdict_words(r: Any) -> str:
    """A comparison's verdict for the command line: "B better"/"B worse" only from a significant
    seed-level test; otherwise what is missing (more seeds, and how many)."""
    v = getattr(r, "verdict", "")
    if v == "better":
        return "B better"
    if v == "worse":
        return "B worse"
    if v == "identical":
        return "identical"
    if v == "untested":
        return "untested (1 seed: run >= 3)"
    needed = getattr(r, "seeds_needed", None)
    return f"inconclusive (~{needed} seeds needed)" if needed else "inconclusive (> 100 seeds needed)"


def format_comparison(a: str, b: str, rows: Sequence[Any], random: dict[str, float] | None = None) -> str:
    """Table of seed-aware comparisons (B - A; `SeedAwareComparison` rows), with the seed-level
    CI and p (Holm-adjusted over the rows), the user-level p beside them (secondary), what they
    rest on, the random ranking's expected metrics and a verdict in words: "better"/"worse" only
    when the seed-level test is significant, "inconclusive" with the seeds needed otherwise, and
    no verdict with one seed."""
    random = random or {}
    body = []
    for r in rows:
        rel = "nan" if math.isnan(r.rel_diff) else f"{100 * r.rel_diff:+.1f}%"
        x_rnd = f"{r.mean_b / random[r.metric]:.1f}x" if random.get(r.metric) else "-"
        ci = "-" if not math.isfinite(r.ci_low) else f"[{r.ci_low:+.4f}, {r.ci_high:+.4f}]"
        body.append(
            [
                r.metric,
                r.mean_a,
                r.mean_b,
                f"{r.diff:+.4f}",
                rel,
                ci,
                _fmt_float(r.p_value, ".2g"),
                _fmt_float(r.p_adjusted, ".2g"),
                _fmt_float(r.user_p_value, ".2g"),
                x_rnd,
                verdict_words(r),
            ]
        )
    first = rows[0] if rows else None
    seeds = tuple(getattr(first, "seeds", ()))
    method = getattr(first, "method", "user-wilcoxon")
    head = [
        f"A = {a} (reference)",
        f"B = {b}",
        f"paired over {first.n_users if first else 0} users in {len(seeds) or 1} seed(s)"
        + (f" ({', '.join(map(str, seeds))})" if seeds else "")
        + f"; {_METHOD_WORDS.get(method, method)}",
    ]
    if random:
        shown = [m for m in (r.metric for r in rows) if m in random] or sorted(random, key=_metric_order)
        head.append(
            "random ranking (expected, mean over A's seeds): " + ", ".join(f"{m} {random[m]:.4f}" for m in shown)
        )
    else:
        head.append("random ranking (expected): not recorded by these runs")
    headers = ["metric", "A", "B", "B-A", "rel", "95% CI (seeds)", "p (seeds)", "p Holm", "p users", "B x random"]
    table = format_table([*headers, "verdict"], body)
    better = [r.metric for r in rows if r.significant and r.diff > 0]
    worse = [r.metric for r in rows if r.significant and r.diff < 0]
    parts = ([f"B significantly better on {', '.join(better)}"] if better else []) + (
        [f"B significantly worse on {', '.join(worse)}"] if worse else []
    )
    untested = sum(1 for r in rows if getattr(r, "verdict", "") == "untested")
    rest = len(rows) - len(better) - len(worse) - untested
    if rest:
        parts.append(f"inconclusive on {rest} metric(s)")
    if untested:
        parts.append(f"no verdict on {untested} metric(s): one seed leaves seed noise untested")
    lines = [*head, table, "verdict: " + ("; ".join(parts) or "nothing compared")]
    note = getattr(first, "note", None)
    if note:
        lines.append(f"note: {note}")
    lines.append(
        "(an improvement is called only when the seed-level test is significant at 0.05 after Holm's "
        "adjustment over these metrics; 'p users' is over users only and never decides)"
    )
    return "\n".join(lines)


def short_reason(text: Any, width: int = 70) -> str:
    """The first line of an error, cut to `width` characters ("-" when there is none)."""
    line = str(text or "").strip().splitlines()[0] if str(text or "").strip() else ""
    line = re.sub(r"^/\S*/(?=[^/\s]+:)", "", line)  # "/long/runs/<id>/results.json: ..." -> "results.json: ..."
    return "-" if not line else line if len(line) <= width else line[: width - 3] + "..."


def format_runs(summaries: Sequence[Any]) -> str:
    """One line per run: id, state, model, dataset, split, test NDCG@10, test Hit@10, how it
    ended (best epoch and its phase; "stopped by the user: no epoch completed") and, for a
    failed or corrupt run, the reason (short); "-" where a run has no test metrics."""
    rows = []
    for s in summaries:
        cfg = s.config or {}
        m = s.metrics or {}
        completion = getattr(s, "completion", None) or {}
        reason = short_reason(s.error) if s.state in ("failed", "corrupt") else "-"
        rows.append(
            [
                s.run_id,
                s.state,
                (cfg.get("model") or {}).get("name", "?"),
                (cfg.get("data") or {}).get("name", "?"),
                (cfg.get("split") or {}).get("kind", "?"),
                m.get("ndcg@10", "-"),
                m.get("hit@10", "-"),
                completion.get("summary") or "-",
                reason,
            ]
        )
    if not rows:
        return "no runs"
    return format_table(
        ["run", "state", "model", "dataset", "split", "test NDCG@10", "test Hit@10", "ended", "reason"], rows
    )
