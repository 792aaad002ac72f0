"""Errors that carry the offending field, so the CLI and the app can show one clear line."""

from __future__ import annotations

__all__ = ["RecCoreError", "ConfigError", "DataError", "DatasetUnavailable"]


class RecCoreError(Exception):
    """Base class of every error `rec_core` raises on purpose (bad input, missing data)."""


class ConfigError(RecCoreError, ValueError):
    """A config or argument value is not allowed.

    `field` names the offending field (or fields, comma separated); the message says what
    is allowed. The CLI turns this into one line and exit code 2.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class DataError(RecCoreError, ValueError):
    """Input data is malformed (missing column, wrong field count, non-numeric id, ...)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class DatasetUnavailable(RecCoreError):
    """A dataset is not on disk and could not be downloaded (for example offline)."""
