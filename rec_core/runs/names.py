"""Run ids: what a run folder may be called, and fresh ids for new runs."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone

from rec_core.errors import ConfigError

__all__ = ["RESERVED_NAMES", "is_safe_name", "new_run_id", "utc_now", "validate_run_id"]

_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
# Folders of a run store that are not runs: `tune` keeps its studies in `<runs-dir>/studies/`.
RESERVED_NAMES = frozenset({"studies"})


def utc_now() -> str:
    """Current time as ISO 8601 UTC with microseconds; strings of this form sort by time."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def validate_run_id(run_id: str, field: str = "run_id") -> str:
    """Return `run_id` if it is a safe folder name, else raise ConfigError(`field`, ...).

    Allowed: 1 to 128 of letters, digits, '.', '_', '-', starting with a letter or digit,
    never containing '..'. So no path separator, no hidden or temporary name.
    """
    if not is_safe_name(run_id):
        raise ConfigError(
            field,
            f"{run_id!r} is not allowed: use 1 to 128 letters, digits, "
            "'.', '_' or '-', starting with a letter or digit, without '..'",
        )
    if run_id in RESERVED_NAMES:
        raise ConfigError(field, f"{run_id!r} is reserved: the run store keeps its tuning studies there")
    return run_id


def is_safe_name(name: object) -> bool:
    return isinstance(name, str) and bool(_ID_PATTERN.fullmatch(name)) and ".." not in name


def new_run_id(prefix: str = "run") -> str:
    """Return `<prefix>-<YYYYmmdd-HHMMSS UTC>-<4 hex>`, the prefix sanitised to a safe name.

    Example: "mf-ml-100k-ratio-s0-20261127-231502-3f9a".
    """
    clean = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._-]+", "-", prefix))
    clean = re.sub(r"-{2,}", "-", clean).strip("._-")[:100].rstrip("._-") or "run"
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return validate_run_id(f"{clean}-{stamp}-{secrets.token_hex(2)}")
