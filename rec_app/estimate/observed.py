"""Finished runs as duration profiles: the first source of `rec_app.estimate` (the second is a
calibration). A run's timings and history give what it spent on each part per training phase,
compared as on an idle machine (each run recorded the load it ran under); the median over the
runs with a config's cost signature is that config's profile.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rec_app.estimate.costs import CLOSED_FORM_MODELS, Profile, cost_signature, data_key, encode_signature
from rec_app.runs.table import RunRow
from rec_core.configs import sub_table
from rec_core.runs.load import busy_factor
from rec_core.runs.summary import parse_time

__all__ = ["Reader", "cache_likely_warm", "observed_profile", "profile_of_run"]


def _median(values: Sequence[float]) -> float | None:
    values = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    return float(statistics.median(values)) if values else None


def profile_of_run(
    results: Mapping[str, Any], history: Sequence[Mapping[str, Any]], status: Mapping[str, Any] | None = None
) -> tuple[Profile, bool] | None:
    """(profile, text cache was cold) of one finished run; None when its record lacks timings."""
    try:
        timings, data, split = results["timings"], results["dataset"], results["split"]
        n_train, n_users, n_items = int(split["n_train"]), int(data["n_users"]), int(data["n_items"])
    except (KeyError, TypeError, ValueError):
        return None
    if n_train <= 0:
        return None
    closed = results.get("model") in CLOSED_FORM_MODELS
    records = [h for h in history if h.get("phase") != "initial"]
    epoch_s: dict[str, float] = {}
    valid_s: dict[str, float] = {}
    if closed:
        fit = float(timings.get("fit_s", 0.0))
        epoch_s["fit"] = fit / max(1, len(records))
    else:
        for name in {str(h.get("phase") or "train") for h in records}:
            mine = [h for h in records if str(h.get("phase") or "train") == name]
            seconds = _median([float(h.get("seconds", math.nan)) for h in mine])
            if seconds is not None:
                epoch_s[name] = seconds
            evals = _median([float(h["eval_seconds"]) for h in mine if isinstance(h.get("eval_seconds"), (int, float))])
            if evals is not None:
                valid_s[name] = evals
    if not epoch_s:
        return None
    parts = {
        k: float(timings.get(k, 0.0)) for k in ("load_s", "split_s", "build_model_s", "fit_s", "test_s", "total_s")
    }
    # What total_s holds besides the timed parts (writing tables and checkpoint): with the test.
    other = max(
        0.0, parts["total_s"] - sum(parts[k] for k in ("load_s", "split_s", "build_model_s", "fit_s", "test_s"))
    )
    # Preparing the model happens inside the fit, outside every epoch's seconds: with the build.
    prepare = (
        0.0
        if closed
        else max(
            0.0, parts["fit_s"] - sum(float(h.get("seconds", 0.0)) + float(h.get("eval_seconds", 0.0)) for h in history)
        )
    )
    startup = None
    started, finished = parse_time((status or {}).get("started_at")), parse_time((status or {}).get("finished_at"))
    if started and finished and parts["total_s"] > 0:
        startup = max(0.0, (finished - started).total_seconds() - parts["total_s"])
    hits = (results.get("model_info") or {}).get("text_cache_hits")
    cold = isinstance(hits, dict) and bool(hits) and not any(hits.values())
    others, env = timings.get("others_runnable"), results.get("environment") or {}
    busy = None
    if isinstance(others, (int, float)):  # sampled as it ran (runs from before that record are not scaled)
        busy = busy_factor(
            float(others), int(env.get("torch_threads") or 0) or None, int(env.get("cpu_count") or 0) or None
        )
    return Profile(
        n_train,
        n_users,
        n_items,
        epoch_s,
        valid_s,
        parts["load_s"] + parts["split_s"],
        parts["build_model_s"] + prepare,
        0.0,
        parts["test_s"] + other,
        startup,
        busy,
    ), cold


Reader = Callable[[str], tuple[Mapping[str, Any] | None, list[dict[str, Any]], Mapping[str, Any] | None]]


def observed_profile(config: Mapping[str, Any], rows: Sequence[RunRow], read: Reader) -> tuple[Profile, int] | None:
    """The median profile of finished runs with `config`'s cost signature, from those on the
    same dataset and split when there are any; (profile, number of runs) or None.

    `read(run_id)` returns (results, history, status). The extra seconds of encoding texts come
    from runs with the same backbone and text length whose cache was cold (minus the build
    time of warm ones), on any dataset (scaled to this one by the number of texts later)."""
    sig, enc, key = cost_signature(config), encode_signature(config), data_key(config)
    same_data: list[Profile] = []
    other_data: list[Profile] = []
    cold_builds: list[tuple[float, float]] = []  # (build seconds, texts) of cold runs
    warm_builds: list[float] = []
    for row in rows:
        if not row.comparable:
            continue
        row_sig, row_enc = cost_signature(row.config), encode_signature(row.config)
        if row_sig != sig and (enc is None or row_enc != enc):
            continue
        results, history, status = read(row.run_id)
        found = profile_of_run(results or {}, history, status)
        if found is None:
            continue
        profile, cold = found
        profile = profile.idle()  # runs under different loads compared as on an idle machine
        if enc is not None and row_enc == enc:
            if cold:
                cold_builds.append((profile.build_s, float(profile.n_users + profile.n_items)))
            else:
                warm_builds.append(profile.build_s / max(1, profile.n_users + profile.n_items))
        if row_sig == sig:
            (same_data if data_key(row.config) == key else other_data).append(profile)
    chosen = same_data or other_data
    if not chosen:
        return None
    warm_per_text = _median(warm_builds) or 0.0
    encode_per_text = _median([max(0.0, b - warm_per_text * n) / n for b, n in cold_builds]) or 0.0

    def med(get: Callable[[Profile], float]) -> float:
        return _median([get(p) for p in chosen]) or 0.0

    phases = {name for p in chosen for name in p.epoch_s}
    first = chosen[0]
    profile = Profile(
        first.n_train,
        first.n_users,
        first.n_items,
        {n: _median([p.epoch_s.get(n, math.nan) for p in chosen]) or 0.0 for n in phases},
        {
            n: _median([p.valid_s.get(n, math.nan) for p in chosen]) or 0.0
            for n in phases
            if any(n in p.valid_s for p in chosen)
        },
        med(lambda p: p.load_s),
        warm_per_text * (first.n_users + first.n_items) if warm_builds else med(lambda p: p.build_s),
        encode_per_text * (first.n_users + first.n_items),
        med(lambda p: p.test_s),
        _median([p.startup_s for p in chosen if p.startup_s is not None]),
        1.0 if all(p.busy is not None for p in chosen) else None,
    )
    return profile, len(chosen)


def cache_likely_warm(config: Mapping[str, Any], rows: Sequence[RunRow], *, calibrated: bool = False) -> bool:
    """Whether the texts of `config`'s dataset were encoded with its backbone and length
    already: by a finished run, or by the calibration of these settings on this dataset."""
    enc = encode_signature(config)
    if enc is None or calibrated:
        return True  # nothing to encode, or the calibration just encoded them
    data = sub_table(config, "data")
    return any(
        r.state in ("done", "stopped") and encode_signature(r.config) == enc and sub_table(r.config, "data") == data
        for r in rows
    )
