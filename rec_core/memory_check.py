"""Refusing a run whose model cannot fit before anything is allocated or any run folder exists:
a lower bound on what training allocates, against the memory available now."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from rec_core.errors import ConfigError

if TYPE_CHECKING:
    from rec_core.configs.run import RunConfig

__all__ = ["check_memory", "memory_estimate"]

# Bytes per trainable parameter while training: the weights, their gradient, Adam's two
# moments and the copy of the best epoch's weights, in float32.
_BYTES_PER_PARAM = 5 * 4


def memory_estimate(config: RunConfig, n_users: int, n_items: int) -> tuple[int, int]:
    """(parameters, bytes): a lower bound on what training `config` on n_users x n_items
    allocates: the ID embeddings (and biases) of models with `embed_dim`, times
    `_BYTES_PER_PARAM` (weights, gradients, 2 Adam states, best-epoch copy)."""
    dim = getattr(config.model, "embed_dim", None)
    if not isinstance(dim, int) or isinstance(dim, bool) or dim <= 0:
        return 0, 0
    params = (n_users + n_items) * (dim + 1)
    return params, params * _BYTES_PER_PARAM


def _available_memory(device: str) -> tuple[int, str] | None:
    """(free bytes, where) of the memory a run on `device` allocates from; None if unknown."""
    if device in ("cuda", "auto") and torch.cuda.is_available():
        try:
            free, _total = torch.cuda.mem_get_info()
            return int(free), "GPU memory free"
        except RuntimeError:
            return None
    try:
        import psutil
    except ImportError:
        return None
    return int(psutil.virtual_memory().available), "memory available"


def check_memory(config: RunConfig, n_users: int, n_items: int) -> None:
    """ConfigError("model.embed_dim", ...) with the numbers when the model's parameters and
    optimiser state alone cannot fit in the memory available now (checked before anything
    is allocated or any run folder exists)."""
    params, need = memory_estimate(config, n_users, n_items)
    if need == 0:
        return
    have = _available_memory(config.train.device)
    if have is None or need <= have[0]:
        return
    raise ConfigError(
        "model.embed_dim",
        f"{config.model.embed_dim} needs at least {need / 1e9:.1f} GB to train ({params:,} parameters for "
        f"{n_users:,} users and {n_items:,} items x {_BYTES_PER_PARAM} bytes: weights, gradients, Adam "
        f"states, best-epoch copy) but {have[0] / 1e9:.1f} GB of {have[1]}; lower embed_dim",
    )
