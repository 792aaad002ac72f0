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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rec_core.configs import coerce_value, field_types, read_config_file
from rec_core.errors import ConfigError, RecCoreError

__all__ = ["main", "entry_point", "build_parser"]

# Exit codes: one rule for every command (`--help` shows EXIT_CODES; README "Command line").
EXIT_OK = 0
EXIT_FAILED = 1  # a run started and failed (its status.json says why), or an unexpected error
EXIT_BAD_INPUT = 2  # input the command cannot use (a ConfigError), refused before any run starts if it can be
EXIT_INTERRUPTED = 130  # 128 + SIGINT (Ctrl-C); a SIGTERM gives 128 + 15 = 143
EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE: the reader of the output left (`runs | head`)
EXIT_CODES = """\
exit codes (every command):
  0    done
  1    a run started and failed (its status.json says why), or an unexpected error
  2    bad input: a flag, config file, folder, run or dataset the command cannot use; one
       line names the field. Refused before any run starts (nothing written), except what
       only the model can check on the data: that run is kept, marked failed
  130  interrupted by Ctrl-C (SIGINT); 143 for SIGTERM, 129 for SIGHUP: 128 + the signal's
       number, as shells report it (a run stopped so is saved as stopped; see its status.json)
  141  the output's reader left early (e.g. `runs | head`)"""


def _signal_exit(signal_name: str | None) -> int:
    """The exit code of a command ended by `signal_name` (128 + its number; Ctrl-C: 130)."""
    import signal

    try:
        return 128 + signal.Signals[signal_name or "SIGINT"].value
    except KeyError:
        return EXIT_INTERRUPTED


def _sections() -> dict[str, list[type]]:
    from rec_core.data import DataConfig
    from rec_core.evaluate import EvalConfig
    from rec_core.models.registry import MODELS
    from rec_core.split import SplitConfig
    from rec_core.train import TrainConfig

    return {
        "data": [DataConfig],
        "split": [SplitConfig],
        "model": [cfg for cfg, _ in MODELS.values()],
        "train": [TrainConfig],
        "eval": [EvalConfig],
    }


# Flags whose names read better than the field's; fields derived from --seed get no flag.
_RENAMED = {
    ("data", "name"): "dataset",
    ("split", "kind"): "split",
    ("model", "name"): "model",
    ("split", "ratios"): "split-ratios",
}
_SKIPPED = {("split", "seed"), ("train", "seed")}


def _flag_table() -> dict[str, tuple[str, str, Any]]:
    """dest -> (section, field, type) for every config field; names collide -> section prefix."""
    seen: dict[str, list[tuple[str, str, Any]]] = {}
    for section, classes in _sections().items():
        done: set[str] = set()
        for cls in classes:
            for name, tp in field_types(cls).items():
                if (section, name) in _SKIPPED or name in done:
                    continue
                done.add(name)
                flag = _RENAMED.get((section, name), name.replace("_", "-"))
                seen.setdefault(flag, []).append((section, name, tp))
    table: dict[str, tuple[str, str, Any]] = {}
    for flag, owners in seen.items():
        if len(owners) == 1:
            table[flag] = owners[0]
        else:
            for section, name, tp in owners:
                table[f"{section}-{flag}"] = (section, name, tp)
    return table


class _CommandParser(argparse.ArgumentParser):
    """A subcommand's parser that can add arguments on first use (parsing it or showing its
    help) through `late_arguments`. `train` has one flag per config field; the model configs
    live beside their models, whose modules import torch, and `--help` or another command must
    not pay for that import."""

    late_arguments: Callable[[argparse.ArgumentParser], None] | None = None

    def _add_late_arguments(self) -> None:
        add, self.late_arguments = self.late_arguments, None
        if add is not None:
            add(self)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self._add_late_arguments()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self._add_late_arguments()
        return super().format_help()


def _add_config_flags(train: argparse.ArgumentParser) -> None:
    for flag, (section, name, _) in sorted(_flag_table().items()):
        train.add_argument(f"--{flag}", dest=f"cfg__{section}__{name}", metavar="VALUE", help=f"{section}.{name}")


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser; building it imports neither torch nor any model module."""
    prog = "rec-core" if Path(sys.argv[0]).name == "rec-core" else "python -m rec_core"  # the console script's name
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Train and compare recommenders.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_CommandParser)

    train = sub.add_parser("train", help="train one model and write a run folder")
    assert isinstance(train, _CommandParser)
    train.late_arguments = _add_config_flags
    train.add_argument("--config", help="JSON or TOML file with sections data, split, model, train, eval")
    train.add_argument("--runs-dir", default="runs", help="run store folder (default: runs)")
    train.add_argument("--run-id", help="name of the run folder (default: generated)")
    train.add_argument("--seed", help="seed of the split, the init and the sampling (default 0)")
    train.add_argument("--label", help="free text shown in the app")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument(
        "--with-control",
        action="store_true",
        help="for a text model warm-started from an MF run (--init-from-run ID or auto): after it, "
        "also train its equal-budget control, 'MF continued': MF trained on from the same MF run with "
        "the same train config (epochs, lr, patience, batch size), data, split and seed, so that what "
        "more training alone gains is not credited to the text. Its run id: RUN_ID-mf-continued with "
        "--run-id. Refused (exit 2) without a warm start",
    )

    execute = sub.add_parser("execute", help="carry out a queued run folder (used by the app's queue)")
    execute.add_argument("run_id")
    execute.add_argument("--runs-dir", default="runs")
    execute.add_argument("--quiet", action="store_true")
    execute.add_argument(
        "--force",
        action="store_true",
        help="execute a finished run again (done or stopped, with results): its results stay in "
        "RUN/previous/ until the new ones are complete",
    )

    cmp_ = sub.add_parser(
        "compare",
        help="paired comparison of two runs, or two groups of runs paired by seed",
        description="B against A (the reference). Each side is one run or several runs of "
        "different seeds: `compare A B`, `compare A1,A2,A3 B1,B2,B3` or "
        "`compare --a A1 A2 A3 --b B1 B2 B3`. Runs pair up by seed; over several "
        "seeds the seed is the unit: a t-test over the per-seed differences with its "
        "t-interval, Holm-adjusted over the metrics; 'better'/'worse' only when it is "
        "significant, else 'inconclusive' with the seeds needed. One seed: no verdict "
        "(seed noise untested); the user-level Wilcoxon is shown, labelled as such.",
    )
    cmp_.add_argument("run_a", nargs="?", help="reference run(s), comma-separated")
    cmp_.add_argument("run_b", nargs="?", help="compared run(s), comma-separated")
    cmp_.add_argument("--a", nargs="+", dest="runs_a", metavar="RUN", help="reference runs (instead of run_a)")
    cmp_.add_argument("--b", nargs="+", dest="runs_b", metavar="RUN", help="compared runs (instead of run_b)")
    cmp_.add_argument("--runs-dir", default="runs")
    cmp_.add_argument("--metrics", default="hit@10,ndcg@10,recall@10,mrr@10,hit@20,ndcg@20")
    cmp_.add_argument("--n-boot", type=int, default=2000)

    tune = sub.add_parser(
        "tune",
        help="search hyperparameters with Optuna on the mean validation metric over several seeds",
        description="An Optuna study (TPE sampler, seeded; median pruner) over the fields named in "
        "--space, on top of the config given as for `train` (--config and the same flags). Each trial "
        "trains one run per --seeds seed through the normal pipeline (run folders in --runs-dir) and "
        "scores the mean validation value of --monitor (default ndcg@10) over them; test metrics are "
        "never read. The study is stored in RUNS_DIR/studies/STUDY.db: the same command again continues "
        "it (--trials is the study's total; interrupted trials are tried again). The end prints the "
        "best parameters, their per-seed validation values and the command that reproduces the best run.",
    )
    assert isinstance(tune, _CommandParser)
    tune.late_arguments = _add_config_flags
    tune.set_defaults(seed=None, label=None)  # the seeds are --seeds; labels name the trial
    tune.add_argument("--space", required=True, help="TOML or JSON: field -> {low, high[, log][, step]} or {choices}")
    tune.add_argument("--config", help="JSON or TOML file with sections data, split, model, train, eval")
    tune.add_argument("--runs-dir", default="runs", help="run store folder (default: runs)")
    tune.add_argument("--study", help="the study's name (default: MODEL-DATASET-SPLIT)")
    tune.add_argument("--seeds", nargs="+", default=["0", "1", "2"], help="the seeds of each trial (default 0 1 2)")
    tune.add_argument("--trials", default="20", help="trials the study holds when done (default 20)")
    tune.add_argument("--timeout", help="seconds after which no new trial starts")
    tune.add_argument("--sampler-seed", default="0", help="TPE's seed (default 0)")
    tune.add_argument(
        "--prune-startup", default="5", help="trials that finish before the median pruner prunes any (default 5)"
    )
    tune.add_argument("--quiet", action="store_true", help="no line per trained seed")

    runs = sub.add_parser("runs", help="list runs")
    runs.add_argument("--runs-dir", default="runs")

    ds = sub.add_parser("datasets", help="which datasets are ready")
    ds.add_argument("--data-dir")
    return parser


def config_from_args(args: argparse.Namespace) -> Any:
    """Merge --config FILE with the flags given (flags win) into a validated RunConfig."""
    from rec_core.configs.run import RunConfig
    from rec_core.models.registry import model_config_class

    base: dict[str, Any] = read_config_file(args.config) if args.config else {}
    if not isinstance(base, dict):
        raise ConfigError("config", "the file must hold a table of sections")
    merged: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    given: dict[tuple[str, str], str] = {}
    for dest, value in vars(args).items():
        if dest.startswith("cfg__") and value is not None:
            _, section, name = dest.split("__", 2)
            given[(section, name)] = value
    model_name = given.get(("model", "name")) or merged.get("model", {}).get("name", "mf")
    model_cls = model_config_class(str(model_name))
    model_fields = field_types(model_cls)
    for (section, name), value in given.items():
        if section == "model" and name not in model_fields:
            raise ConfigError(name, f"does not apply to model {model_name!r}; its fields: {', '.join(model_fields)}")
        merged.setdefault(section, {})
        if not isinstance(merged[section], dict):
            raise ConfigError(section, "must be a table of fields")
        # Coerce here so the error names the flag's field, not a nested dataclass.
        cls = model_cls if section == "model" else _sections()[section][0]
        merged[section][name] = coerce_value(f"{section}.{name}", field_types(cls)[name], value)
    if args.seed is not None:
        merged["seed"] = coerce_value("seed", int, args.seed)
    if args.label is not None:
        merged["label"] = args.label
    return RunConfig.from_dict(merged)


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
        return _signal_exit(getattr(exc, "signal_name", None))
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
        return _signal_exit(signal_name)
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
        return _signal_exit(getattr(exc, "signal_name", None))
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
