"""The command line's parser, its exit codes and flags, and flags -> `RunConfig`: building the
parser imports neither torch nor any model module. The commands themselves are in
`rec_core.cli`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rec_core.configs import coerce_value, field_types, read_config_file
from rec_core.errors import ConfigError

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


def signal_exit(signal_name: str | None) -> int:
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

    _add_train(sub)
    _add_execute(sub)
    _add_compare(sub)
    _add_tune(sub)
    _add_listings(sub)
    return parser


def _add_train(sub: Any) -> None:
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


def _add_execute(sub: Any) -> None:
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


def _add_compare(sub: Any) -> None:
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


def _add_tune(sub: Any) -> None:
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


def _add_listings(sub: Any) -> None:
    runs = sub.add_parser("runs", help="list runs")
    runs.add_argument("--runs-dir", default="runs")

    ds = sub.add_parser("datasets", help="which datasets are ready")
    ds.add_argument("--data-dir")


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
