"""What the Train page's live panel says about each run, as plain data (no Streamlit).

One icon per run state; rows in the order that matters (running, then queued in queue order,
then finished, newest first); a label per row that names the run, its seed and its state and
is unique on the page (two seeds of one launch never share a label, so Stop is never aimed at
the wrong row); and a progress line with a fraction: the step within the epoch with its rate
and ETA while training, the texts encoded with their rate and ETA while a cold feature cache
is filled, the seconds spent (and an estimate of those left) in the other phases before that.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from rec_app.i18n import format_duration, t
from rec_app.runs.table import RunRow
from rec_core.runs.summary import parse_time

__all__ = [
    "STATE_ICONS",
    "ProgressView",
    "ordered",
    "row_labels",
    "progress_view",
    "queue_positions",
    "completion_sentence",
]

# One icon per state (Streamlit expander icons); "spinner" turns while a run works.
STATE_ICONS: dict[str, str] = {
    "running": "spinner",
    "queued": ":material/hourglass_top:",
    "done": ":material/check_circle:",
    "stopped": ":material/stop_circle:",
    "failed": ":material/error:",
    "corrupt": ":material/broken_image:",
}
_ORDER = {"running": 0, "queued": 1}
_EPOCH = datetime.min.replace(tzinfo=timezone.utc)


def _queued_at(row: RunRow, statuses: Mapping[str, Mapping[str, Any]]) -> datetime:
    status = statuses.get(row.run_id) or {}
    return parse_time(status.get("queued_at")) or row.created_at or _EPOCH


def ordered(rows: Sequence[RunRow], statuses: Mapping[str, Mapping[str, Any]] | None = None) -> list[RunRow]:
    """Running runs (earliest start first), then queued ones in the order the queue starts them
    (queued_at, from `statuses` by run id), then the rest, newest first."""
    statuses = statuses or {}
    active = sorted(
        (r for r in rows if r.state in _ORDER),
        key=lambda r: (
            _ORDER[r.state],
            (r.started_at or _EPOCH) if r.state == "running" else _queued_at(r, statuses),
            r.run_id,
        ),
    )
    rest = sorted(
        (r for r in rows if r.state not in _ORDER),
        key=lambda r: (r.finished_at or r.created_at or _EPOCH, r.run_id),
        reverse=True,
    )
    return active + rest


def queue_positions(rows: Sequence[RunRow], statuses: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, int]:
    """Run id -> 1-based place in the queue of each queued run."""
    queued = [r for r in ordered(rows, statuses) if r.state == "queued"]
    return {r.run_id: i for i, r in enumerate(queued, 1)}


def row_labels(rows: Sequence[RunRow], lang: str) -> dict[str, str]:
    """Run id -> "name · seed 1 · running": unique among `rows` (a run whose name and seed
    another row shares gets its start time, then its id, added)."""
    seed_word = t("field.seed", lang)

    def base(r: RunRow) -> str:
        seed = f" · {seed_word} {r.seed}" if r.seed is not None else ""
        return f"{r.name}{seed}"

    counts = Counter(base(r) for r in rows)
    labels: dict[str, str] = {}
    for r in rows:
        head = base(r)
        if counts[head] > 1:
            when = r.created_at.astimezone().strftime("%H:%M:%S") if r.created_at else r.run_id
            head = f"{head} · {when}"
        labels[r.run_id] = head
    again = Counter(labels.values())
    for r in rows:
        if again[labels[r.run_id]] > 1:
            labels[r.run_id] = f"{labels[r.run_id]} · {r.run_id}"
    return {r.run_id: f"{labels[r.run_id]} · {t(f'state.{r.state}', lang)}" for r in rows}


@dataclass(frozen=True)
class ProgressView:
    fraction: float | None  # 0..1 for a bar, None: no bar
    text: str


def _rate(steps_per_s: float, lang: str) -> str:
    if steps_per_s >= 1:
        return t("live.rate_steps", lang, rate=f"{steps_per_s:.1f}")
    return t("live.rate_seconds", lang, seconds=f"{1 / max(steps_per_s, 1e-9):.1f}")


def _texts_rate(texts_per_s: float, lang: str) -> str:
    if texts_per_s >= 1:
        return t("live.rate_texts", lang, rate=f"{texts_per_s:.0f}" if texts_per_s >= 10 else f"{texts_per_s:.1f}")
    return t("live.rate_text_seconds", lang, seconds=f"{1 / max(texts_per_s, 1e-9):.1f}")


def _encoding_view(progress: Mapping[str, Any], lang: str) -> ProgressView:
    """ "encoding text: 800 of 1,682 texts · 120 texts/s · about 7 s left" (status.json's
    `texts`, `texts_total`, `texts_per_s`, `encode_eta_s`; rec_core.experiment writes them)."""
    total = max(1, int(progress["texts_total"]))
    done = min(total, max(0, int(progress.get("texts") or 0)))
    parts = [t("live.texts", lang, phase=t("phase.encoding text", lang), done=f"{done:,}", n=f"{total:,}")]
    rate = progress.get("texts_per_s")
    if isinstance(rate, (int, float)) and rate > 0:
        parts.append(_texts_rate(float(rate), lang))
        parts.append(t("live.encode_eta", lang, eta=format_duration(float(progress.get("encode_eta_s") or 0), lang)))
    return ProgressView(done / total, " · ".join(parts))


def progress_view(
    row: RunRow,
    status: Mapping[str, Any],
    lang: str,
    *,
    now: datetime | None = None,
    phase_estimate_s: float | None = None,
    queue_position: int | None = None,
) -> ProgressView:
    """The progress line of `row` (its status.json as `status`, for phase start times).

    `phase_estimate_s`: the estimated seconds of the phase the run is in before training
    (loading, text encoding before its first batch is done), which turns the seconds spent into
    a fraction and a time left; once texts are counted, their own rate and ETA replace it."""
    now = now or datetime.now(timezone.utc)
    progress = row.progress or {}
    if row.state == "queued":
        return ProgressView(
            None, t("live.queued_at", lang, k=queue_position) if queue_position else t("live.queued", lang)
        )
    if row.state != "running":
        return ProgressView(None, t(f"state.{row.state}", lang))
    epochs = int(progress.get("epochs") or 0)
    done = min(int(progress.get("epoch") or 0), epochs) if epochs else 0
    if epochs and progress.get("steps"):
        step, steps = int(progress.get("step") or 0), max(1, int(progress["steps"]))
        k = int(progress.get("step_epoch") or done + 1)
        parts = [t("live.epoch", lang, k=k, n=epochs), t("live.step", lang, s=step, n=steps)]
        rate = progress.get("steps_per_s")
        if isinstance(rate, (int, float)) and rate > 0:
            parts.append(_rate(float(rate), lang))
            parts.append(t("live.epoch_eta", lang, eta=format_duration(float(progress.get("epoch_eta_s") or 0), lang)))
        return ProgressView(min(1.0, (k - 1 + step / steps) / epochs), " · ".join(parts))
    if row.phase == "encoding text" and progress.get("texts_total"):
        return _encoding_view(progress, lang)
    if epochs and row.phase == "training":
        return ProgressView(done / epochs, t("live.epoch_done", lang, k=done, n=epochs))
    phase = str(row.phase or "starting")
    name = t(f"phase.{phase}", lang, default=phase)
    began = parse_time(status.get("phase_started_at"))
    if began is None:
        return ProgressView(0.0, name)
    spent = max(0.0, (now - began).total_seconds())
    if phase_estimate_s and phase_estimate_s > 0:
        left = max(0.0, phase_estimate_s - spent)
        text = (
            t("live.phase_left", lang, phase=name, spent=format_duration(spent, lang), left=format_duration(left, lang))
            if left > 0
            else t("live.phase_over", lang, phase=name, spent=format_duration(spent, lang))
        )
        return ProgressView(min(0.99, spent / phase_estimate_s), text)
    return ProgressView(0.0, t("live.phase_spent", lang, phase=name, spent=format_duration(spent, lang)))


def completion_sentence(row: RunRow) -> tuple[str, dict[str, Any]] | None:
    """(i18n key, its parameters) of the one true sentence about how a finished or stopped run
    ended, from its completion record: a run stopped in the queue or before its first epoch has
    no weights or test metrics; otherwise it says which epoch's weights were tested. None for
    an active run, a failed one (its error says it) or one without a record."""
    c = row.completion
    if row.state not in ("done", "stopped") or not c:
        return None
    epochs = c.get("epochs_completed")
    best = row.best_epoch
    if c.get("reason") == "fitted":
        return "live.end_fitted", {}
    if c.get("state") == "stopped":
        if not epochs:
            return ("live.end_queued" if row.started_at is None else "live.end_no_epoch"), {}
        by = {"signal": str(c.get("signal") or "a signal")} if c.get("reason") == "signal" else {}
        if not best:
            return ("live.end_signal_last" if by else "live.end_stopped_last"), {"epochs": epochs, **by}
        return ("live.end_signal" if by else "live.end_stopped"), {"epochs": epochs, "best": best, **by}
    if not isinstance(epochs, int) or not best:
        return None
    reason = "live.end_early" if c.get("reason") == "early_stopped" else "live.end_max"
    return reason, {"epochs": epochs, "best": best}
