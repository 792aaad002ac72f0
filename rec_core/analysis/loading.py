"""Opening a finished run for analysis, with every way it can fail said in words.

A page calls `open_run` (status and files), then `run_config` and `load_model`; each raises
`RunNotAnalysable` (a RecCoreError) with a message for people: the run is still training,
its checkpoint is missing, or it was written by another version of the model code.
"""

from __future__ import annotations

from typing import Any

from rec_core.data.interactions import InteractionData
from rec_core.errors import RecCoreError
from rec_core.runs import CorruptRunFile, Run, RunFileNotFound, RunStore

__all__ = [
    "RunNotAnalysable",
    "CHECKPOINT_FORMAT",
    "open_run",
    "run_config",
    "load_model",
    "has_attention",
    "require_attention",
]

CHECKPOINT_FORMAT = "1"  # what execute_run writes as metadata["rec_core_checkpoint"]


class RunNotAnalysable(RecCoreError):
    """A run that the analysis pages cannot open (the message says why and what to do)."""


def open_run(store: RunStore, run_id: str) -> Run:
    """The run `run_id` if it finished with results; RunNotAnalysable otherwise."""
    run = store.get(run_id)  # RunNotFound is already a readable RecCoreError
    try:
        state = run.status().get("state")
    except RecCoreError as exc:
        raise RunNotAnalysable(f"Run {run_id!r} cannot be read: {exc}") from exc
    if state not in ("done", "stopped"):
        raise RunNotAnalysable(f"Run {run_id!r} is {state}; only finished runs (done or stopped) can be analysed.")
    try:
        results = run.results()
    except RecCoreError as exc:
        raise RunNotAnalysable(f"The results of run {run_id!r} cannot be read: {exc}") from exc
    if results is None:
        raise RunNotAnalysable(f"Run {run_id!r} has no results.json; it did not finish testing.")
    return run


def run_config(run: Run) -> Any:
    """The run's `RunConfig`; a config this version cannot read becomes RunNotAnalysable."""
    from rec_core.configs.run import RunConfig

    try:
        return RunConfig.from_dict(run.config())
    except RecCoreError as exc:
        raise RunNotAnalysable(
            f"The config of run {run.run_id!r} was written by another version of rec_core "
            f"and cannot be rebuilt here ({exc})."
        ) from exc


def _checkpoint_format(run: Run) -> str | None:
    """metadata["rec_core_checkpoint"] of the run's checkpoint, read from the header only."""
    from safetensors import safe_open

    path = run.path / "model.safetensors"
    if not path.is_file():
        raise RunNotAnalysable(
            f"Run {run.run_id!r} has no checkpoint (model.safetensors is missing), so its model "
            "cannot be rebuilt. Train it again to analyse it."
        )
    try:
        with safe_open(str(path), framework="pt") as f:
            return (f.metadata() or {}).get("rec_core_checkpoint")
    except Exception as exc:  # SafetensorError and OSError alike mean "unreadable"
        raise RunNotAnalysable(
            f"The checkpoint of run {run.run_id!r} is damaged and cannot be read. Train it again to analyse it."
        ) from exc


def load_model(run: Run, data: InteractionData) -> Any:
    """The run's trained model (eval mode) on `data`, via `experiment.load_run_model`.

    A missing, unreadable or mismatching checkpoint raises RunNotAnalysable: a page shows it
    as a message, not a traceback.
    """
    from rec_core.experiment import CheckpointMismatch, load_run_model

    run_config(run)  # a config from another version fails here, with its own message
    found = _checkpoint_format(run)
    if found != CHECKPOINT_FORMAT:
        raise RunNotAnalysable(
            f"The checkpoint of run {run.run_id!r} is in format {found!r}; this version reads "
            f"format {CHECKPOINT_FORMAT!r}. Train the run again with this version."
        )
    try:
        model, config = load_run_model(run, data)
    except (RunFileNotFound, CorruptRunFile) as exc:  # removed or damaged since the check above
        raise RunNotAnalysable(f"The checkpoint of run {run.run_id!r} cannot be read: {exc}") from exc
    except CheckpointMismatch as exc:  # missing keys, shape mismatches: said at the load site
        name = run.config().get("model", {}).get("name", "?")
        raise RunNotAnalysable(
            f"The checkpoint of run {run.run_id!r} does not fit the {name} model of this "
            "version (saved by another version of rec_core, or with other settings). Train it "
            f"again to analyse it. ({exc})"
        ) from exc
    model.eval()
    return model


def has_attention(model_config: dict[str, Any] | Any) -> bool:
    """Whether a model (its config, as object or dict) fuses by cross-attention and can explain."""
    get = model_config.get if isinstance(model_config, dict) else (lambda k, d=None: getattr(model_config, k, d))
    return get("name") == "enhanced" and bool(get("use_attention", True))


def require_attention(model: Any, run_id: str) -> None:
    """RunNotAnalysable unless `model` has cross-attention weights to show."""
    name = getattr(model, "name", "?")
    if name != "enhanced":
        raise RunNotAnalysable(
            f"Run {run_id!r} ({name} model) has no cross-attention between ID and text, "
            "so there are no attention weights to show. Pick a run of the LLM-enhanced model "
            "trained with cross-attention fusion."
        )
    if not has_attention(model.config):
        raise RunNotAnalysable(
            f"Run {run_id!r} fuses ID and text without cross-attention (use_attention is off), "
            "so there are no attention weights to show. Pick a run trained with cross-attention "
            "fusion."
        )
