"""Command line: `python -m rec_core train|compare|tune|runs|execute|datasets` (or `rec-core ...`).

Every config field has a flag, generated from the dataclasses so the two never drift apart.
Every error is one line, never a traceback (a run's status.json keeps it; REC_CORE_DEBUG=1
shows it here too), and the exit code follows one rule, `EXIT_CODES` (also in `--help`):
2 bad input, 1 a failed run or an unexpected error, 128 + the signal's number when
interrupted (130 for Ctrl-C).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

# Exit codes: one rule for every command (`--help` shows EXIT_CODES; README "Command line").
from rec_core.cli_parser import (
    EXIT_BAD_INPUT,
    EXIT_CLOSED_PIPE,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    build_parser,
    config_from_args,
    signal_exit,
)
from rec_core.cli_parser import EXIT_CODES as EXIT_CODES
from rec_core.configs import coerce_value
from rec_core.errors import ConfigError, RecCoreError

__all__ = ["main", "entry_point", "build_parser"]


def _cmd_train(args: argparse.Namespace) -> int:
    from rec_core.experiment import prepare_data, start_run
    from rec_core.runs import RunStore, validate_run_id
    from rec_core.runs.store import check_store_root

    if args.run_id is not None:
        validate_run_id(args.run_id)
    check_store_root(args.runs_dir)  # a file, under a file, not writable: before any work
    config = config_from_args(args)
    control = _control_of(config, args) if args.with_control else None
    _join_processes(config.train.device)  # torchrun: every rank joins before any work
    # Load and split before the run folder exists: bad data is an input error that must leave
    # nothing behind (and so is a model too large for the memory: start_run checks it).
    data, split = prepare_data(config)
    code = _execute(
        _rank_run(lambda: start_run(config, RunStore(args.runs_dir), args.run_id, data=data)), args.quiet, data, split
    )
    if control is None or code != EXIT_OK:
        return code
    control_id = f"{args.run_id}-mf-continued" if args.run_id else None
    return _execute(
        _rank_run(lambda: start_run(control, RunStore(args.runs_dir), control_id, data=data)), args.quiet, data, split
    )


def _control_of(config: Any, args: argparse.Namespace) -> Any:
    """`--with-control`: the MF-continued run of `config` (rec_core.warm_start.equal_budget_control),
    checked before anything trains: it must start from the very MF run the text model starts from."""
    from rec_core.runs import RunStore, validate_run_id
    from rec_core.warm_start import equal_budget_control, resolve_warm_start

    control = equal_budget_control(config)
    if args.run_id is not None:
        validate_run_id(f"{args.run_id}-mf-continued")
    store = RunStore(args.runs_dir)
    source, control_source = resolve_warm_start(config, store), resolve_warm_start(control, store)
    if source != control_source:  # not expected: both follow one rule; never a control of another MF
        raise ConfigError("with_control", f"the control would start from {control_source!r}, the model from {source!r}")
    return control


def _join_processes(device: str) -> None:
    """Under torchrun (WORLD_SIZE > 1), join the process group (rec_core/distributed.py)."""
    from rec_core import distributed

    distributed.init_from_env(device)


def _rank_run(make: Any) -> Any:
    """The run `make()` creates or opens on rank 0, shared with the other ranks (which get a
    read-only view); an input error on rank 0 ends every rank with the same message."""
    from rec_core import distributed
    from rec_core.runs.ranks import share_run

    if not distributed.is_main():
        return share_run(None)
    try:
        run = make()
    except RecCoreError as exc:
        return share_run(None, exc)
    return share_run(run)


def _execute(run: Any, quiet: bool, data: Any = None, split: Any = None) -> int:
    from rec_core.experiment import execute_run
    from rec_core.progress import ConsoleProgress, format_results

    from rec_core import distributed

    progress = ConsoleProgress(run.run_id, enabled=not quiet and distributed.is_main())
    try:
        results = execute_run(run, progress, data=data, split=split)
    except KeyboardInterrupt as exc:
        progress.close()
        try:
            what = run.raw_status().get("error") or "interrupted"
        except (RecCoreError, OSError):
            what = "interrupted"
        print(f"stopped: {run.run_id} ({what})", file=sys.stderr)
        return signal_exit(getattr(exc, "signal_name", None))
    except Exception as exc:  # one line, never a traceback; status.json keeps it
        progress.close()
        if os.environ.get("REC_CORE_DEBUG"):
            raise
        text = str(exc) if isinstance(exc, RecCoreError) else f"{type(exc).__name__}: {exc}"
        note = getattr(exc, "status_note", None)
        where = f"; {note}" if note else "; traceback in its status.json" if not isinstance(exc, RecCoreError) else ""
        rank, world = distributed.current()
        if rank != 0:  # torchrun: only rank 0 writes the run folder, so only it marks the run
            print(f"error: {text} (process {rank} of {world}; process 0 records run {run.run_id})", file=sys.stderr)
        else:
            print(f"error: {text} (run {run.run_id} marked failed{where})", file=sys.stderr)
        # Input found unusable only once the run started (the model's own limits on this data):
        # still bad input, and the run is kept, marked failed, saying why.
        return EXIT_BAD_INPUT if isinstance(exc, ConfigError) else EXIT_FAILED
    except BaseException as exc:  # not an Exception: a Rust panic in tokenizers / safetensors (pyo3)
        if isinstance(exc, (SystemExit, GeneratorExit)):
            raise
        progress.close()
        if os.environ.get("REC_CORE_DEBUG"):
            raise
        text = f"{type(exc).__name__}: {exc}"
        _mark_failed(run, text)
        print(
            f"error: {text} (run {run.run_id} marked failed; unexpected, REC_CORE_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    finally:
        progress.close()
    if not distributed.is_main():  # rank 0 reports the run
        return 0
    print(format_results(results))
    print(f"run folder: {run.path}")
    signal_name = (results.get("completion") or {}).get("signal")
    if signal_name:  # stopped by SIGINT / SIGTERM / SIGHUP: saved, but the caller asked it to end
        return signal_exit(signal_name)
    return EXIT_OK


def _mark_failed(run: Any, text: str) -> None:
    """Mark `run` failed if it still says running: `execute_run` records every Exception, but
    not a BaseException such as a pyo3 panic. Best effort; the process is about to exit."""
    import traceback

    try:
        if run.raw_status().get("state") == "running":
            run.set_status("failed", phase="failed", error=text, traceback=traceback.format_exc(limit=20))
    except (RecCoreError, OSError, AttributeError):
        pass


def _cmd_execute(args: argparse.Namespace) -> int:
    from rec_core.runs import RunStore

    # The backend follows the device the run trains on (gloo for a CPU run on a CUDA machine too).
    try:
        config = RunStore(args.runs_dir, create=False).get(args.run_id).config()
        device = str(config.get("train", {}).get("device", "auto"))
    except (RecCoreError, OSError, ValueError):
        device = "auto"  # rank 0 reports the missing run below, every rank with the same message
    _join_processes(device)
    return _execute(_rank_run(lambda: _run_to_execute(args)), args.quiet)


def _run_to_execute(args: argparse.Namespace) -> Any:
    """The run `execute` carries out, checked before anything is written: its config reads, it
    is not running in another process, and a finished one is executed again only with --force
    (rec_core/runs/attempt.py)."""
    from rec_core.configs.run import RunConfig
    from rec_core.runs import RunStore
    from rec_core.runs.attempt import check_can_execute

    run = RunStore(args.runs_dir, create=False).get(args.run_id)
    check_can_execute(run, force=args.force)
    RunConfig.from_dict(run.config())  # ConfigError / CorruptRunFile: exit 2, the run untouched
    return run


def _compare_side(name: str, positional: str | None, flagged: list[str] | None) -> list[str]:
    """Run ids of one side of `compare`: `--a RUN RUN` or a positional `RUN,RUN` (not both)."""
    if positional and flagged:
        raise ConfigError(name, f"give run {name}'s runs either positionally or with --{name}, not both")
    items = [x.strip() for v in (flagged or ([positional] if positional else [])) for x in v.split(",")]
    ids = [x for x in items if x]
    if not ids:
        raise ConfigError(name, f"no run given for side {name} (usage: compare RUN_A RUN_B, or --a RUN... --b RUN...)")
    return ids


def _cmd_compare(args: argparse.Namespace) -> int:
    from rec_core.setting import setting_mismatch
    from rec_core.evaluate.compare import compare_seeds_all
    from rec_core.progress import format_comparison
    from rec_core.runs import RunStore
    from rec_core.runs.summary import primary_test_metrics

    store = RunStore(args.runs_dir, create=False)
    sides = {"a": _compare_side("a", args.run_a, args.runs_a), "b": _compare_side("b", args.run_b, args.runs_b)}
    runs: dict[str, dict[Any, Any]] = {"a": {}, "b": {}}  # side -> seed -> Run
    results: dict[str, Any] = {}
    first: tuple[str, dict[str, Any]] | None = None
    for side, ids in sides.items():
        for run_id in ids:
            run = store.get(run_id)
            config = run.config()
            state = run.status()["state"]
            if state not in ("done", "stopped"):
                raise ConfigError(
                    "run", f"run {run_id} is {state}, not finished: only done or stopped runs can be compared"
                )
            res = run.results()
            problem = run.check_files(res)
            if problem is not None:
                raise ConfigError("run", f"run {run_id} is corrupt ({problem}); it cannot be compared")
            if not primary_test_metrics(res):  # e.g. stopped before any epoch: nothing to compare
                raise ConfigError("run", f"run {run_id} has no test metrics, so it cannot be compared")
            if first is None:
                first = (run_id, config)
            else:
                mismatch = setting_mismatch(first[1], config)
                if mismatch is not None:
                    raise ConfigError(
                        "run",
                        f"run {run_id} is on {mismatch[1]} but run {first[0]} is on "
                        f"{mismatch[0]}; runs on different datasets or splits cannot be compared",
                    )
            seed = config.get("seed")
            if seed in runs[side]:
                raise ConfigError(
                    side,
                    f"runs {runs[side][seed].run_id} and {run_id} both have seed {seed}; "
                    "give one run per seed on each side",
                )
            runs[side][seed] = run
            results[run_id] = res
    common = [s for s in runs["a"] if s in runs["b"]]
    if not common:
        raise ConfigError(
            "seed",
            f"no seed in common (a: {', '.join(map(str, runs['a']))}; b: "
            f"{', '.join(map(str, runs['b']))}): each seed has its own split, so users "
            "pair up only between runs of the same seed",
        )
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    tables = {
        side: {seed: run.read_table("per_user_test") for seed, run in by_seed.items() if seed in common}
        for side, by_seed in runs.items()
    }
    rows = compare_seeds_all(tables["a"], tables["b"], metrics, n_boot=args.n_boot)
    # The random ranking's expected metrics: mean over the paired seeds of the reference side
    # (the same split gives the same value on both sides); absent on runs older than it.
    randoms = []
    for seed in common:
        rnd = ((results[runs["a"][seed].run_id].get("test") or {}).get("primary") or {}).get("random")
        if isinstance(rnd, dict) and rnd:
            randoms.append(rnd)
    random = {
        m: sum(float(r[m]) for r in randoms) / len(randoms)
        for m in (randoms[0] if randoms else {})
        if all(isinstance(r.get(m), (int, float)) and not isinstance(r.get(m), bool) for r in randoms)
    }
    label_a = ", ".join(r.run_id for r in runs["a"].values())
    label_b = ", ".join(r.run_id for r in runs["b"].values())
    print(format_comparison(label_a, label_b, rows, random=random))
    return 0


def _cmd_tune(args: argparse.Namespace) -> int:
    from rec_core.data import load_dataset
    from rec_core.configs.run import RunConfig
    from rec_core.runs import RunStore
    from rec_core.runs.atomic import write_json_atomic
    from rec_core.runs.store import check_store_root
    from rec_core.split import make_split
    from rec_core.tune import (
        TuneSettings,
        make_objective,
        open_study,
        optimize,
        parse_space,
        pipeline_trainer,
        read_space,
        study_path,
        study_record,
        study_report,
    )

    check_store_root(args.runs_dir)
    base = config_from_args(args)
    params = parse_space(read_space(args.space), base)  # unknown fields and bad ranges: exit 2, nothing written
    settings = TuneSettings(
        name=args.study or base.run_prefix().removesuffix(f"-s{base.seed}"),
        seeds=tuple(coerce_value("seeds", int, s) for s in args.seeds),
        trials=coerce_value("trials", int, args.trials),
        timeout_s=coerce_value("timeout", float, args.timeout) if args.timeout is not None else None,
        sampler_seed=coerce_value("sampler_seed", int, args.sampler_seed),
        prune_startup=coerce_value("prune_startup", int, args.prune_startup),
    )
    try:
        import optuna  # noqa: F401 - the `tune` extra
    except ImportError:
        raise ConfigError("tune", "needs Optuna: pip install 'rec-core[tune]' (or pip install optuna)") from None
    # Bad data is input too: the dataset loads and splits for every seed before the study exists.
    data = load_dataset(base.data)
    for seed in settings.seeds:
        make_split(data, RunConfig.from_dict({**base.to_dict(), "seed": seed}).split)
    path = study_path(args.runs_dir, settings.name)
    study = open_study(path, settings, study_record(base, params, settings))
    say = (lambda line: None) if args.quiet else (lambda line: print(line, flush=True))
    train_one = pipeline_trainer(RunStore(args.runs_dir), lambda config: data if config.data == base.data else None)
    try:
        started = optimize(study, make_objective(base, params, settings, train_one, say), settings)
    except KeyboardInterrupt as exc:
        print(f"interrupted: study {settings.name} is saved in {path}; the same command continues it", file=sys.stderr)
        return signal_exit(getattr(exc, "signal_name", None))
    report = study_report(study, base, params, settings)
    report["storage"] = str(path)
    best = report["best"]
    counts = ", ".join(f"{n} {state}" for state, n in report["counts"].items())
    print(f"study {settings.name}: {counts} ({started} run now); stored in {path}")
    if best is None:
        print("no trial completed: nothing to choose", file=sys.stderr)
        write_json_atomic(path.with_suffix(".json"), report)
        return EXIT_FAILED
    best_config = path.with_name(f"{settings.name}-best.json")
    write_json_atomic(best_config, best["config"])
    seeds = " ".join(str(s) for s in settings.seeds)
    report["reproduce"] = [
        f"python -m rec_core train --config {best_config} --runs-dir {args.runs_dir} --seed {s}" for s in settings.seeds
    ]
    write_json_atomic(path.with_suffix(".json"), report)
    monitor = base.train.monitor
    print(f"best: trial {best['trial']}, mean valid {monitor} {best['value']:.4f} over seeds {seeds}")
    print("  params: " + ", ".join(f"{k}={v!r}" for k, v in best["params"].items()))
    for seed, value in best["valid"].items():
        print(f"  seed {seed}: valid {monitor} {value:.4f} (run {best['runs'].get(seed)})")
    print(f"reproduce (one run per seed, {seeds}): {report['reproduce'][0]}")
    print(f"every trial: {path.with_suffix('.json')}")
    return EXIT_OK


def _cmd_runs(args: argparse.Namespace) -> int:
    from rec_core.progress import format_runs
    from rec_core.runs import RunStore

    print(format_runs(RunStore(args.runs_dir, create=False).list()))
    return 0


def _cmd_datasets(args: argparse.Namespace) -> int:
    from rec_core.data import dataset_status

    for row in dataset_status(args.data_dir):
        print(f"{row['name']:<10} {row['state']:<12} {row['path']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {
        "train": _cmd_train,
        "execute": _cmd_execute,
        "compare": _cmd_compare,
        "tune": _cmd_tune,
        "runs": _cmd_runs,
        "datasets": _cmd_datasets,
    }
    try:
        return handlers[args.command](args)
    except RecCoreError as exc:  # raised before any run started (a run's own errors end in _execute)
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # `runs | head`: the reader left. Point stdout at /dev/null so the interpreter's own
        # flush at exit does not complain again, and exit quietly.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_CLOSED_PIPE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BaseException as exc:  # one line, never a traceback (also a pyo3 panic, not an Exception)
        if isinstance(exc, (SystemExit, GeneratorExit)) or os.environ.get("REC_CORE_DEBUG"):
            raise
        if isinstance(exc, OSError) and exc.filename:
            text = f"{exc.strerror or exc}: {exc.filename}"
        else:
            text = f"{type(exc).__name__}: {exc}"
        print(f"error: {text} (unexpected; REC_CORE_DEBUG=1 shows the traceback)", file=sys.stderr)
        return EXIT_FAILED


def entry_point() -> int:
    """`python -m rec_core` and the `rec-core` console script: `main`, then stdout flushed
    inside the guard, since a reader such as `runs | head` may close the pipe before that."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader left; point stdout at /dev/null so the flush at exit stays quiet.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_CLOSED_PIPE
    return code
