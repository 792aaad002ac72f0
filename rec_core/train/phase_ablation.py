"""What an earlier training phase alone achieved: a recorded ablation of multi-phase runs.

Scheme 3 trains cached epochs, then dynamic (LoRA) epochs, and restores the best validated
epoch over both phases (`TrainConfig.select_best="any"`): the dynamic phase has to earn its
place on validation, and the run records which phase won. Whether the dynamic phase helped is
then read off two numbers: the restored weights' and those of the cached phase's own best
epoch. When the restored weights are not from an earlier phase, that phase's own best weights
are evaluated once more, on validation and on test, after the run's own test: a recorded
ablation. Nothing is selected on it (selection stays on validation), and the run's weights
and mode are put back before anything else reads the model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rec_core.data.interactions import InteractionData
from rec_core.evaluate import EvalConfig, evaluate
from rec_core.split import Split
from rec_core.train.trainer import Trainer

__all__ = ["ABLATION_NOTE", "earlier_phases_alone"]

ABLATION_NOTE = (
    "the phase's own best weights, evaluated once after the run's test as a recorded ablation; "
    "the run's weights were selected on validation only"
)


def earlier_phases_alone(
    trainer: Trainer,
    setups: Mapping[str, Callable[[], None] | None],
    final_phase: str,
    data: InteractionData,
    split: Split,
    config: EvalConfig,
) -> dict[str, dict[str, Any]]:
    """{phase: {"epoch", "valid", "test", "note"}} for each earlier phase whose own best
    weights are not the restored ones (`Trainer.phase_state`); {} for a one-phase run.

    `setups` maps each phase to the setup that put the model in that phase's mode (scheme 3:
    cache mode on or off): a phase's weights are evaluated in the mode they were validated
    in, and `final_phase`'s setup is applied again afterwards. The phases of a run share one
    set of trainable parameters, so a phase's snapshot with the restored one fully describes
    each state.
    """
    earlier = [
        p for p in trainer.phases if p["name"] != trainer.best_phase and trainer.phase_state(p["name"]) is not None
    ]
    if not earlier:
        return {}
    model = trainer.model
    restored = trainer.snapshot()
    out: dict[str, dict[str, Any]] = {}
    try:
        for phase in earlier:
            name = phase["name"]
            setup = setups.get(name)
            if setup is not None:
                setup()
            state = trainer.phase_state(name)
            assert state is not None
            model.load_state_dict(state, strict=False)
            # The primary ranking, as the trainer validates and the run tests (NaN -> None).
            valid = evaluate(model, data, split, "valid", config, device=trainer.device).to_dict()
            test = evaluate(model, data, split, "test", config, device=trainer.device).to_dict()
            out[name] = {"epoch": phase["best_epoch"], "valid": valid["metrics"], "test": test["metrics"]}
            out[name]["note"] = ABLATION_NOTE
    finally:
        final = setups.get(final_phase)
        if final is not None:
            final()
        model.load_state_dict(restored, strict=False)
    return out
