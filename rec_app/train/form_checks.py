"""Rules of the Train form that `RunConfig` cannot check on its own, because they depend on
what is on this machine: the chosen backbone's real depth. Checked before a run folder
exists, so a run that cannot start is refused at Launch instead of failing minutes later,
after its data is loaded and its texts are encoded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rec_core.errors import ConfigError

__all__ = ["check_backbone_depth"]


def _trains_backbone(model: Mapping[str, Any]) -> bool:
    """Whether backbone blocks run with gradients (rec_core's EnhancedConfig.trainable_backbone)."""
    return bool(model.get("use_peft")) or not bool(model.get("freeze_gpt2", True))


def check_backbone_depth(model: Mapping[str, Any], backbones: Sequence[Mapping[str, object]]) -> None:
    """ConfigError naming `dynamic_layers` when the enhanced model would train more top blocks
    than its backbone has (`backbones`: rec_core.text.available_backbones' rows, with n_layers).
    Nothing to check for other models, cached features or a backbone of unknown depth."""
    if model.get("name") != "enhanced" or not _trains_backbone(model):
        return
    wanted = int(model.get("dynamic_layers") or 0)
    depth = next((b.get("n_layers") for b in backbones if b.get("name") == model.get("backbone")), None)
    if isinstance(depth, int) and wanted > depth:
        raise ConfigError(
            "dynamic_layers",
            f"the backbone {model.get('backbone')} has {depth} transformer blocks, so at most {depth} can be "
            f"trained; got {wanted}",
        )
