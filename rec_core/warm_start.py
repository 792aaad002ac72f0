"""Warm start from a finished MF run (`init_from_run` in the model config).

Two kinds of model start from an MF run's ID embeddings and item bias:
- the text models (GPT2Recommender, GPT2RecommenderEnhanced) score with an MF part plus a gated
  text part; starting their MF part from an MF run of the same data, split and seed makes the
  text side's value measurable as a delta over that very MF (with `gate_init=0` the model
  scores exactly as the MF run before its first step);
- MF itself ("MF continued"): the equal-budget control of such a text model. It trains on from
  the same MF run with the text model's extra budget (epochs, patience, learning rate), so that
  what training longer alone gains is not credited to the text.

`init_from_run="auto"` picks, per seed, the MF run to start from among the runs directory's
*candidates*: finished ("done") MF runs trained from scratch (not themselves continued) of the
same data, split and seed whose MF setting equals this model's MF part (embed_dim, reg_weight,
item_bias), that are not smoke runs (fewer than SMOKE_EPOCHS completed epochs: a pipeline check
such as `--epochs 3`; runs stopped by the user are "stopped", never "done") and whose checkpoint
is intact (it loads, with its recorded checksum, and holds MF embeddings). The MF run's training
settings (TRAINING_FIELDS: lr, epochs, patience, ...) legitimately differ from the text model's
own, so they are not matched; when the candidates differ in them (or in the rest of the MF
config), `auto` refuses instead of guessing, listing the candidates: name one by its id. Of
candidates with one setting the newest is used (a retrained copy of the same experiment).
Negative sampling has no setting: one uniform negative per positive for every model.

The run records which MF run it started from and that run's settings (`warm_start_record`,
results.json's "warm_start"). `check_warm_start` runs before a run folder is created (a bad
reference leaves nothing behind); `apply_warm_start` copies the weights into a built model. Both
raise `ConfigError` naming `init_from_run` when the run is missing, not MF, not finished, on
other data / split / seed, or (auto) when no candidate or several settings are found.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rec_core.configs.run import RunConfig
from rec_core.errors import ConfigError, RecCoreError
from rec_core.runs import Run, RunStore
from rec_core.setting import differing_fields

__all__ = [
    "AUTO",
    "MF_PART_FIELDS",
    "SMOKE_EPOCHS",
    "TRAINING_FIELDS",
    "apply_warm_start",
    "check_warm_start",
    "equal_budget_control",
    "is_equal_budget_control",
    "resolve_warm_start",
    "warm_start_record",
]

FIELD = "init_from_run"
AUTO = "auto"
# A finished MF run that completed fewer epochs is a smoke run (a check that the pipeline runs),
# not a trained MF: `auto` never starts from one (an explicit run id still may).
SMOKE_EPOCHS = 10
# The MF settings a text model's MF part has too: `auto` takes only MF runs with the same values.
MF_PART_FIELDS = ("embed_dim", "reg_weight", "item_bias")
# How the MF run was trained: the warm-started run's own values may differ (a text model's lr is
# its own), so they are not matched; candidates differing in them make `auto` refuse.
TRAINING_FIELDS = ("lr", "weight_decay", "epochs", "patience", "batch_size", "monitor", "eval_every", "grad_clip")


@dataclass(frozen=True)
class _Candidate:
    run_id: str
    finished_at: str
    setting: dict[str, Any]  # {"model": MF config fields, "train": TRAINING_FIELDS}

    def describe(self) -> str:
        m, t = self.setting["model"], self.setting["train"]
        model = ", ".join(f"{k}={m[k]!r}" for k in sorted(m))
        train = ", ".join(f"{k}={t[k]!r}" for k in TRAINING_FIELDS if k in t)
        return f"{self.run_id} ({model}; {train})"


def _same_setting(config: Any, source: Any) -> str | None:
    """Why `source` (an MF run's RunConfig) cannot warm-start `config`, or None if it can."""
    differ = differing_fields(config.to_dict(), source.to_dict(), compare_location=True)
    if differ:
        field, (ours, theirs) = next(iter(differ.items()))  # the first, by name
        return f"used {field}={theirs!r}, this run {field}={ours!r}; warm start needs the same data, split and seed"
    if source.seed != config.seed:
        return f"used seed {source.seed}, this run seed {config.seed}; warm start needs the same data, split and seed"
    if source.model.embed_dim != config.model.embed_dim:
        return f"has embed_dim {source.model.embed_dim}, this model {config.model.embed_dim}; they must be equal"
    return None


def _mf_setting(source: Any) -> dict[str, Any]:
    """What defines an MF run's weights besides data, split and seed."""
    model = {k: v for k, v in source.model.__dict__.items() if k not in ("name", FIELD)}
    train = {k: getattr(source.train, k) for k in TRAINING_FIELDS}
    return {"model": model, "train": train}


def _source_keys(config: Any) -> tuple[str, ...]:
    """The ID embeddings a source run's checkpoint must hold: GPT2Recommender's for an Enhanced
    model over GPT2Recommender (base "gpt2rec"), else MF's."""
    if getattr(config.model, "base", "mf") == "gpt2rec":
        return ("user_tower.ids.table.weight", "item_tower.ids.table.weight")
    return ("user_emb.weight", "item_emb.weight")


def _checkpoint_problem(
    run: Run, embed_dim: int, keys: tuple[str, ...] = ("user_emb.weight", "item_emb.weight")
) -> str | None:
    """What is wrong with a source run's checkpoint (unreadable, checksum, no ID embeddings of
    width `embed_dim` under `keys`: MF's, or GPT2Recommender's), or None."""
    try:
        state, _meta = run.load_checkpoint()  # verifies the size and SHA-256 results.json records
    except (RecCoreError, OSError) as exc:
        return f"checkpoint unreadable: {exc}"
    for key in keys:
        t = state.get(key)
        if t is None or t.dim() != 2 or t.shape[1] != embed_dim:
            return f"checkpoint holds no MF {key} of width {embed_dim}"
    return None


def _epochs_completed(summary: Any, run: Run) -> int | None:
    done = (summary.completion or {}).get("epochs_completed")
    if isinstance(done, int):
        return done
    try:
        results = run.results() or {}
    except (RecCoreError, OSError):
        return None
    epochs = results.get("epochs_run")
    return epochs if isinstance(epochs, int) else None


def _find_auto(config: Any, store: RunStore) -> str:
    """Id of the MF run `auto` starts `config` from (see the module docstring); ConfigError
    naming `init_from_run` when there is none, or when the candidates differ in their setting."""
    found: list[_Candidate] = []
    skipped: dict[str, list[str]] = {"smoke": [], "damaged": [], "other MF setting": [], "continued": []}
    for summary in store.list():
        if summary.state != "done" or (summary.config.get("model") or {}).get("name") != "mf":
            continue
        try:
            source = RunConfig.from_dict(summary.config)
        except RecCoreError:
            continue
        if _same_setting(config, source) is not None:
            continue
        run = store.get(summary.run_id)
        if getattr(source.model, FIELD, ""):
            skipped["continued"].append(summary.run_id)  # an MF continued run is not a trained-from-scratch MF
        elif any(getattr(config.model, k, None) != getattr(source.model, k) for k in MF_PART_FIELDS):
            skipped["other MF setting"].append(summary.run_id)
        elif (_epochs_completed(summary, run) or 0) < SMOKE_EPOCHS:
            skipped["smoke"].append(summary.run_id)
        elif _checkpoint_problem(run, config.model.embed_dim) is not None:
            skipped["damaged"].append(summary.run_id)
        else:
            found.append(_Candidate(summary.run_id, summary.finished_at or "", _mf_setting(source)))
    part = ", ".join(f"{k}={getattr(config.model, k, None)!r}" for k in MF_PART_FIELDS)
    if not found:
        why = "; ".join(f"{reason}: {', '.join(ids)}" for reason, ids in skipped.items() if ids)
        raise ConfigError(
            FIELD,
            f"'auto' found no finished MF run of dataset {config.data.name!r}, split {config.split.kind!r}, "
            f"seed {config.seed} with {part}, trained from scratch for at least {SMOKE_EPOCHS} epochs and "
            f"with an intact checkpoint, in {store.root}"
            + (f" (left out: {why})" if why else "")
            + "; train that MF run first",
        )
    settings = {json.dumps(c.setting, sort_keys=True, default=str) for c in found}
    if len(settings) > 1:
        listed = "; ".join(c.describe() for c in sorted(found, key=lambda c: c.run_id))
        raise ConfigError(
            FIELD,
            f"'auto' is ambiguous for seed {config.seed}: {len(found)} MF runs with {part} differ in "
            f"their training settings ({listed}); name the one to start from by its run id",
        )
    return max(found, key=lambda c: (c.finished_at, c.run_id)).run_id


def _source_run(config: Any, store: RunStore) -> Run | None:
    """The MF run `config.model.init_from_run` names, checked against `config`; None if unset."""
    run_id = getattr(config.model, FIELD, "")
    if not run_id:
        return None
    over_gpt2rec = getattr(config.model, "base", "mf") == "gpt2rec"
    if run_id == AUTO:
        if over_gpt2rec:  # each seed's GPT2Recommender run is named: no rule picks one for you yet
            raise ConfigError(FIELD, "'auto' finds MF runs; with base 'gpt2rec' name the GPT2Recommender run")
        run_id = _find_auto(config, store)
    try:
        run = store.get(run_id)
    except RecCoreError as exc:
        raise ConfigError(FIELD, f"no run {run_id!r} in the runs directory {store.root}") from exc
    try:
        source = RunConfig.from_dict(run.config())
        state = run.status().get("state")
    except RecCoreError as exc:
        raise ConfigError(FIELD, f"run {run_id!r} cannot be read: {exc}") from exc
    wanted = "gpt2rec" if over_gpt2rec else "mf"
    if source.model.name != wanted:
        raise ConfigError(
            FIELD,
            f"run {run_id!r} is a {source.model.name!r} run; this model's warm start needs a {wanted!r} run"
            + ("" if over_gpt2rec else " (an Enhanced model with base 'gpt2rec' starts from a GPT2Recommender run)"),
        )
    if over_gpt2rec:
        for field in ("backbone", "max_length", "pooling", "use_user_text"):
            ours, theirs = getattr(config.model, field), getattr(source.model, field)
            if ours != theirs:
                raise ConfigError(FIELD, f"run {run_id!r} used {field}={theirs!r}, this model {field}={ours!r}")
    if state != "done":
        raise ConfigError(FIELD, f"run {run_id!r} is not finished (state {state!r}); warm start needs a done MF run")
    why = _same_setting(config, source)
    if why is not None:
        raise ConfigError(FIELD, f"run {run_id!r} {why}")
    damage = _checkpoint_problem(run, config.model.embed_dim, _source_keys(config))  # before the run folder exists
    if damage is not None:
        raise ConfigError(FIELD, f"run {run_id!r}: {damage}; warm start needs its MF weights")
    return run


def resolve_warm_start(config: Any, store: RunStore) -> str | None:
    """The id of the MF run `config` would start from ("auto" resolved); None without a warm
    start. ConfigError naming `init_from_run` as `check_warm_start`."""
    run = _source_run(config, store)
    return None if run is None else run.run_id


def check_warm_start(config: Any, store: RunStore) -> None:
    """Refuse (ConfigError naming `init_from_run`) a warm start that cannot work, its MF run's
    checkpoint included: damaged, it would fail the run only after its folder exists."""
    run = _source_run(config, store)
    problem = _checkpoint_problem(run, config.model.embed_dim, _source_keys(config)) if run is not None else None
    if run is not None and problem is not None:
        raise ConfigError(FIELD, f"run {run.run_id!r}: {problem}")


def apply_warm_start(model: Any, config: Any, store: RunStore) -> str | None:
    """Copy the MF run's ID embeddings and item bias into `model`; returns the run id used."""
    run = _source_run(config, store)
    if run is None:
        return None
    if not hasattr(model, "load_id_weights"):
        raise ConfigError(FIELD, f"model {config.model.name!r} cannot be warm-started")
    try:
        state, _meta = run.load_checkpoint()
    except RecCoreError as exc:
        raise ConfigError(FIELD, f"run {run.run_id!r} has no readable checkpoint: {exc}") from exc
    if getattr(config.model, "base", "mf") == "gpt2rec":  # every weight GPT2Recommender shares
        model.load_base_weights(state)
        return run.run_id
    users, items = state.get("user_emb.weight"), state.get("item_emb.weight")
    if (
        users is None
        or items is None
        or users.shape != (model.n_users, config.model.embed_dim)
        or items.shape != (model.n_items, config.model.embed_dim)
    ):
        raise ConfigError(FIELD, f"run {run.run_id!r}'s checkpoint does not hold MF embeddings of this dataset")
    model.load_id_weights(users, items, state.get("bias"))
    return run.run_id


def equal_budget_control(config: Any) -> Any:
    """The "MF continued" run that is the equal-budget control of the warm-started text model
    `config`: MF with the text model's MF part (embed_dim, init_std, reg_weight, item_bias), the
    same `init_from_run` (so `auto` picks the same MF run: MF continued runs are never its
    candidates), the same train config (epochs, lr, patience, batch size, ...), data, split,
    evaluation and seed. ConfigError naming `with_control` for a config without a warm start
    (nothing to control for) or an MF config (it is a control already)."""
    from rec_core.models.mf import MFConfig

    model = config.model
    source = getattr(model, FIELD, "")
    if model.name == "mf" or not source:
        what = "an MF run" if model.name == "mf" else f"model {model.name!r} without a warm start"
        raise ConfigError(
            "with_control",
            f"the equal-budget control (MF continued) is for a text model warm-started from an MF run "
            f"(init_from_run: a run id or 'auto'); this is {what}",
        )
    mf = MFConfig(
        embed_dim=model.embed_dim,
        init_std=model.init_std,
        reg_weight=model.reg_weight,
        item_bias=model.item_bias,
        init_from_run=source,
    )
    return RunConfig(
        data=config.data, split=config.split, model=mf, train=config.train, eval=config.eval, seed=config.seed
    )


def is_equal_budget_control(model: Any) -> bool:
    """Whether a model config (a dataclass or a run config's model dict) is MF continued."""
    get = model.get if isinstance(model, dict) else lambda k, d=None: getattr(model, k, d)
    return get("name") == "mf" and bool(get(FIELD, ""))


def warm_start_record(config: Any, store: RunStore, run_id: str | None) -> dict[str, Any] | None:
    """What results.json records of a warm start: the MF run used, whether `auto` chose it, and
    the settings that run was trained with (its MF config and TRAINING_FIELDS) and how far it
    trained; None without a warm start."""
    if run_id is None:
        return None
    run = store.get(run_id)
    source = RunConfig.from_dict(run.config())
    results = run.results() or {}
    return {
        "run_id": run_id,
        "requested": getattr(config.model, FIELD, ""),
        **_mf_setting(source),
        "epochs_run": results.get("epochs_run"),
        "best_epoch": results.get("best_epoch"),
    }
