"""`tune`: an Optuna study whose objective is the mean validation metric over several seeds.

Each trial trains one run per seed through the normal pipeline (`start_run` / `execute_run`,
run folders in the run store, so every trial's runs can be opened in the app) and reads the
validation value of the run's `train.monitor` from its results; test metrics are never read.
After each seed the running mean is reported, so the median pruner can stop a trial whose
first seeds validate below the median of earlier trials at the same step (same seeds: the
values are comparable). TPE sampler, seeded; the study lives in SQLite at
`<runs-dir>/studies/<name>.db` and running the same command again continues it:

- `trials` is the study's total: finished trials (complete, pruned, failed) are never redone;
- a trial interrupted (Ctrl-C, SIGTERM, or a process that died) is tried again with the same
  parameters, and its seeds' finished runs are reused (a finished run of the very same config
  and training code is never trained twice);
- the sampler is seeded with `sampler_seed` + the number of trials already in the study, so a
  resumed study does not redraw the first invocation's random start-up points.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rec_core.errors import ConfigError, RecCoreError
from rec_core.tune.space import Param, apply_params

if TYPE_CHECKING:
    import optuna

    from rec_core.configs.run import RunConfig
    from rec_core.runs import RunStore

__all__ = [
    "STUDIES_DIR",
    "SeedResult",
    "TuneSettings",
    "make_objective",
    "open_study",
    "optimize",
    "pipeline_trainer",
    "study_path",
    "study_report",
]

STUDIES_DIR = "studies"  # under the runs dir; a reserved name there (rec_core.runs.names)
TrainOne = Callable[["RunConfig"], "SeedResult"]


@dataclass(frozen=True)
class SeedResult:
    """One seed's run of a trial: its id and the validation value of the monitor."""

    run_id: str
    valid: float


@dataclass(frozen=True)
class TuneSettings:
    """How a study searches (the search space and the base config come separately)."""

    name: str  # the study's name: its SQLite file is studies/<name>.db
    seeds: tuple[int, ...] = (0, 1, 2)  # one run per seed per trial; the objective is their mean
    trials: int = 20  # the study's total number of finished trials
    timeout_s: float | None = None  # no new trial starts after this many seconds
    sampler_seed: int = 0  # TPE's seed (plus the trials already in the study)
    prune_startup: int = 5  # trials that finish before the median pruner prunes any

    def __post_init__(self) -> None:
        from rec_core.configs.run import check_seed
        from rec_core.runs.names import validate_run_id

        validate_run_id(self.name, "study")
        if not self.seeds:
            raise ConfigError("seeds", "give at least one seed")
        for s in self.seeds:
            check_seed(s)
        if len(set(self.seeds)) != len(self.seeds):
            raise ConfigError("seeds", f"a seed is repeated: {list(self.seeds)}")
        if self.trials < 1:
            raise ConfigError("trials", f"must be >= 1, got {self.trials}")
        if self.timeout_s is not None and not (math.isfinite(self.timeout_s) and self.timeout_s > 0):
            raise ConfigError("timeout", f"must be a positive number of seconds, got {self.timeout_s}")
        if self.prune_startup < 0:
            raise ConfigError("prune_startup", f"must be >= 0, got {self.prune_startup}")


def study_path(runs_dir: str | Path, name: str) -> Path:
    return Path(runs_dir) / STUDIES_DIR / f"{name}.db"


def study_record(base: RunConfig, params: Sequence[Param], settings: TuneSettings) -> dict[str, Any]:
    """What makes a study the same study: its base config (seed and label aside), seeds,
    monitor and space. A second invocation with other values is refused, not mixed in."""
    config = {k: v for k, v in base.to_dict().items() if k not in ("seed", "label")}
    return {
        "base": config,
        "seeds": list(settings.seeds),
        "monitor": base.train.monitor,
        "space": {p.name: p.to_dict() for p in params},
    }


def open_study(path: Path, settings: TuneSettings, record: dict[str, Any] | None = None) -> optuna.Study:
    """The study at `path` (created if new): TPE sampler, median pruner, maximising. With a
    `record` (`study_record`), a study made with other settings is refused (ConfigError("study"))."""
    import optuna

    # One line per seed and trial is ours; Optuna's own warnings would add a failed trial's traceback.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    path.parent.mkdir(parents=True, exist_ok=True)
    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    n_before = 0
    if settings.name in optuna.get_all_study_names(storage):
        n_before = len(optuna.load_study(study_name=settings.name, storage=storage).get_trials(deepcopy=False))
    sampler = optuna.samplers.TPESampler(seed=settings.sampler_seed + n_before)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=settings.prune_startup, n_warmup_steps=0)
    study = optuna.create_study(
        study_name=settings.name,
        storage=storage,
        sampler=sampler,
        pruner=pruner,
        direction="maximize",
        load_if_exists=True,
    )
    if record is not None:
        had = study.user_attrs.get("setting")
        if had is None:
            study.set_user_attr("setting", json.loads(json.dumps(record)))
        elif json.dumps(had, sort_keys=True) != json.dumps(record, sort_keys=True):
            differ = [
                k for k in record if json.dumps(had.get(k), sort_keys=True) != json.dumps(record[k], sort_keys=True)
            ]
            raise ConfigError(
                "study",
                f"study {settings.name!r} ({path}) was made with another {', '.join(differ)}; run it with "
                "the same settings to continue it, or give another --study name",
            )
    return study


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _retry_interrupted(study: optuna.Study) -> None:
    """Queue again, with the same parameters, each trial an earlier invocation did not finish:
    one it marked interrupted (Ctrl-C, a signal) or one still RUNNING whose process is gone
    (killed), which is first marked failed. Each is queued once (the study's `retried` list)."""
    from optuna.trial import TrialState

    retried = set(study.user_attrs.get("retried", []))
    for t in study.get_trials(deepcopy=False):
        dead = t.state == TrialState.RUNNING and not _pid_alive(t.user_attrs.get("pid"))
        if dead:  # the same steps Optuna's fail_stale_trials takes for a trial without heartbeat
            study._storage.set_trial_user_attr(t._trial_id, "interrupted", True)
            study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL)
        interrupted = t.state == TrialState.FAIL and t.user_attrs.get("interrupted")
        if (dead or interrupted) and t.number not in retried:
            study.enqueue_trial(t.params, user_attrs={"retry_of": t.number})
            retried.add(t.number)
    study.set_user_attr("retried", sorted(retried))


def _finished(study: optuna.Study) -> int:
    """Trials that count toward the total: complete, pruned, or failed other than interrupted."""
    from optuna.trial import TrialState

    return sum(
        1
        for t in study.get_trials(deepcopy=False)
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED)
        or (t.state == TrialState.FAIL and not t.user_attrs.get("interrupted"))
    )


def make_objective(
    base: RunConfig,
    params: Sequence[Param],
    settings: TuneSettings,
    train_one: TrainOne,
    say: Callable[[str], None] = lambda line: None,
) -> Callable[[optuna.Trial], float]:
    """The trial's objective: for each seed in turn, `train_one` its config and report the
    running mean of the validation values (pruned when the median pruner says so); the value
    is the mean over all seeds. Each trial records its per-seed values and run ids."""
    import optuna

    monitor = base.train.monitor

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr("pid", os.getpid())
        values = {p: p.suggest(trial) for p in params}
        shown = ", ".join(f"{p.name}={v!r}" for p, v in values.items())
        valid: dict[str, float] = {}
        runs: dict[str, str] = {}
        try:
            for step, seed in enumerate(settings.seeds):
                label = f"tune {settings.name} trial {trial.number}"
                result = train_one(apply_params(base, values, seed=seed, label=label))
                valid[str(seed)], runs[str(seed)] = result.valid, result.run_id
                trial.set_user_attr("valid", dict(valid))
                trial.set_user_attr("runs", dict(runs))
                mean = sum(valid.values()) / len(valid)
                say(f"trial {trial.number} seed {seed}: valid {monitor} {result.valid:.4f} ({result.run_id})")
                trial.report(mean, step)
                if step < len(settings.seeds) - 1 and trial.should_prune():
                    say(f"trial {trial.number} pruned after {step + 1} seed(s): mean {mean:.4f} ({shown})")
                    raise optuna.TrialPruned(f"mean valid {monitor} {mean:.4f} after {step + 1} seed(s)")
        except KeyboardInterrupt:
            trial.set_user_attr("interrupted", True)  # tried again by the next invocation
            raise
        except RecCoreError as exc:  # recorded failed by Optuna (catch=); the study goes on
            say(f"trial {trial.number} failed: {exc} ({shown})")
            raise
        mean = sum(valid.values()) / len(valid)
        say(f"trial {trial.number}: mean valid {monitor} {mean:.4f} over {len(valid)} seeds ({shown})")
        return mean

    return objective


def optimize(study: optuna.Study, objective: Callable[[optuna.Trial], float], settings: TuneSettings) -> int:
    """Run the trials the study still lacks (interrupted ones again first); returns how many
    were started. A trial whose run fails on its input (RecCoreError) is recorded failed and
    the study goes on; anything else ends it."""
    _retry_interrupted(study)
    remaining = settings.trials - _finished(study)
    if remaining <= 0:
        return 0
    before = len(study.get_trials(deepcopy=False))
    study.optimize(objective, n_trials=remaining, timeout=settings.timeout_s, catch=(RecCoreError,))
    return len(study.get_trials(deepcopy=False)) - before


def pipeline_trainer(store: RunStore, data_for: Callable[[RunConfig], Any] | None = None) -> TrainOne:
    """`train_one` through the normal pipeline: a run folder per config in `store`, trained by
    `execute_run`; a finished run of the same config (label aside) and training code is reused.
    `data_for(config)` may give the loaded dataset (loaded once per data config by the caller)."""
    from rec_core.configs.run import RunConfig
    from rec_core.experiment import execute_run, start_run
    from rec_core.runs.environment import code_fingerprint

    def key(config: dict[str, Any]) -> str:
        d = {k: v for k, v in RunConfig.from_dict(config).to_dict().items() if k != "label"}
        return json.dumps(d, sort_keys=True)

    def reusable(config: RunConfig) -> Any:
        wanted = key(config.to_dict())
        for summary in store.list():
            if summary.state != "done":
                continue
            try:
                if key(summary.config) != wanted:
                    continue
            except RecCoreError:  # a run of an older config format: not the same experiment
                continue
            run = store.get(summary.run_id)
            results = run.results() or {}
            if (results.get("environment") or {}).get("code") == code_fingerprint():
                return run, results
        return None

    def train_one(config: RunConfig) -> SeedResult:
        found = reusable(config)
        if found is not None:
            run, results = found
        else:
            data = data_for(config) if data_for is not None else None
            run = start_run(config, store, data=data)
            results = execute_run(run, data=data)
            signal_name = (results.get("completion") or {}).get("signal")
            if signal_name:  # stopped by a signal: saved, but not a result of this trial
                exc = KeyboardInterrupt(f"run {run.run_id} stopped by {signal_name}")
                exc.signal_name = signal_name  # type: ignore[attr-defined]  # read back with getattr
                raise exc
        metrics = ((results.get("valid") or {}).get("primary") or {}).get("metrics") or {}
        monitor = config.train.monitor
        if monitor not in metrics:  # e.g. stopped on request before its first epoch
            raise ConfigError("monitor", f"run {run.run_id} has no validation {monitor}: it validated no epoch")
        return SeedResult(run.run_id, float(metrics[monitor]))

    return train_one


def study_report(
    study: optuna.Study, base: RunConfig, params: Sequence[Param], settings: TuneSettings
) -> dict[str, Any]:
    """The study's outcome as a JSON-ready dict: counts, every trial (state, parameters, per-seed
    validation values, run ids) and the best trial with the full config that reproduces it."""
    from optuna.trial import TrialState

    trials = []
    for t in study.get_trials(deepcopy=False):
        trials.append(
            {
                "number": t.number,
                "state": t.state.name.lower(),
                "params": t.params,
                "value": t.value,
                "valid": t.user_attrs.get("valid", {}),
                "runs": t.user_attrs.get("runs", {}),
                "retry_of": t.user_attrs.get("retry_of"),
            }
        )
    counts = {s.name.lower(): sum(1 for t in trials if t["state"] == s.name.lower()) for s in TrialState}
    out: dict[str, Any] = {
        "study": settings.name,
        "monitor": base.train.monitor,
        "seeds": list(settings.seeds),
        "objective": f"mean validation {base.train.monitor} over the seeds' runs (test never read)",
        "space": {p.name: p.to_dict() for p in params},
        "counts": {k: v for k, v in counts.items() if v},
        "trials": trials,
        "best": None,
    }
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    if complete:
        best = max(complete, key=lambda t: (t.value if t.value is not None else -math.inf, -t.number))
        by_name = {p.name: p for p in params}
        config = apply_params(base, {by_name[k]: v for k, v in best.params.items() if k in by_name})
        out["best"] = {
            "trial": best.number,
            "value": best.value,
            "params": best.params,
            "valid": best.user_attrs.get("valid", {}),
            "runs": best.user_attrs.get("runs", {}),
            "config": {k: v for k, v in config.to_dict().items() if k not in ("seed", "label")},
        }
    return out
