"""Warm start of a text model's ID part from a finished MF run (`init_from_run` in the config).

The text models (GPT2Recommender, GPT2RecommenderEnhanced) score with an MF part plus a gated
text part. Starting their ID embeddings and item bias from an MF run of the same data, split
and seed makes the text side's value measurable as a delta over that very MF: with
`gate_init=0` the model scores exactly as the MF run before its first step.

`init_from_run="auto"` picks the newest finished MF run of the same data, split, seed and
embedding size in the runs directory, so that a launch over several seeds warm-starts each
seed from its own MF run; the run id actually used is recorded in the results.

`check_warm_start` runs before a run folder is created (a bad reference leaves nothing behind);
`apply_warm_start` copies the weights into a built model. Both raise `ConfigError` naming
`init_from_run` when the run is missing, not MF, not finished, or on other data / split / seed.
"""

from __future__ import annotations

from typing import Any

from rec_core.errors import ConfigError, RecCoreError
from rec_core.runs import Run, RunStore
from rec_core.setting import differing_fields

__all__ = ["AUTO", "check_warm_start", "apply_warm_start"]

FIELD = "init_from_run"
AUTO = "auto"  # the newest matching finished MF run


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


def _find_auto(config: Any, store: RunStore) -> str:
    """Id of the newest finished MF run that can warm-start `config` (ConfigError if none)."""
    from rec_core.experiment import RunConfig  # experiment imports this module

    found: list[tuple[str, str]] = []
    for summary in store.list():
        if summary.state != "done" or (summary.config.get("model") or {}).get("name") != "mf":
            continue
        try:
            source = RunConfig.from_dict(summary.config)
        except RecCoreError:
            continue
        if _same_setting(config, source) is None:
            found.append((summary.finished_at or "", summary.run_id))
    if not found:
        raise ConfigError(
            FIELD,
            f"'auto' found no finished MF run of dataset {config.data.name!r}, split "
            f"{config.split.kind!r}, seed {config.seed}, embed_dim {config.model.embed_dim} in "
            f"{store.root}; train that MF run first",
        )
    return max(found)[1]


def _source_run(config: Any, store: RunStore) -> Run | None:
    """The MF run `config.model.init_from_run` names, checked against `config`; None if unset."""
    run_id = getattr(config.model, FIELD, "")
    if not run_id:
        return None
    from rec_core.experiment import RunConfig  # experiment imports this module

    if run_id == AUTO:
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
    if source.model.name != "mf":
        raise ConfigError(FIELD, f"run {run_id!r} is a {source.model.name!r} run; warm start needs an 'mf' run")
    if state != "done":
        raise ConfigError(FIELD, f"run {run_id!r} is not finished (state {state!r}); warm start needs a done MF run")
    why = _same_setting(config, source)
    if why is not None:
        raise ConfigError(FIELD, f"run {run_id!r} {why}")
    return run


def check_warm_start(config: Any, store: RunStore) -> None:
    """Refuse (ConfigError naming `init_from_run`) a warm start that cannot work."""
    _source_run(config, store)


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
