"""The rule on a model config's reference to a finished run (`init_from_run`), shared by MF
("MF continued") and the text models' MF part."""

from __future__ import annotations

from typing import Any

from rec_core.errors import ConfigError

__all__ = ["check_run_id"]


def check_run_id(run_id: Any) -> None:
    """`init_from_run` is a run id (a folder name of the runs directory), "auto" or "" (off);
    never a path, which could reach outside the runs directory."""
    if not isinstance(run_id, str) or any(ch in run_id for ch in "/\\") or run_id in (".", ".."):
        raise ConfigError(
            "init_from_run", f"must be a run id (a folder name in the runs directory) or empty; got {run_id!r}"
        )
