"""The run record as typed values: a run's status, its results and one history row.

Each is a frozen dataclass with `from_dict` (what the JSON file holds) and `to_dict` (what
goes back into it). The files stay plain JSON objects that dict readers keep reading; the
types add named, typed access for the fields readers use, and carry every other key in
`extra`, so `Record.from_dict(d).to_dict() == d` for any JSON object `d`: nothing is lost,
keys a newer writer added included.

New status and results files hold `schema_version` (SCHEMA_VERSION); a file without it was
written before the record had a version and reads as version 0, with the same fields.

    RunStatus.from_dict(run.raw_status()).state            # "queued" ... "stopped"
    RunResults.from_dict(run.results()).test_metrics()     # {"ndcg@10": 0.12, ...}
    [HistoryRow.from_dict(r) for r in run.history()]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

__all__ = ["SCHEMA_VERSION", "HistoryRow", "RunResults", "RunStatus", "schema_version_of"]

SCHEMA_VERSION = 1  # written into new status.json and results.json; 0: a file from before it
_VERSION_KEY = "schema_version"

R = TypeVar("R", bound="_Record")


def schema_version_of(record: Mapping[str, Any] | None) -> int:
    """The schema version a status or results dict was written with (0: none recorded)."""
    value = record.get(_VERSION_KEY) if isinstance(record, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass(frozen=True)
class _Record:
    """Typed fields for the keys readers use, `extra` for every other key, and `absent`: the
    typed keys the source dict did not hold, which `to_dict` leaves out again (a typed field's
    default is not the same as a missing key)."""

    extra: dict[str, Any] = field(default_factory=dict)  # every key without a typed field, as read
    absent: frozenset[str] = frozenset()  # typed keys missing from the dict this came from

    _KEYS: ClassVar[tuple[str, ...]] = ()  # the typed keys, in the order a writer puts them

    @classmethod
    def from_dict(cls: type[R], data: Mapping[str, Any] | None) -> R:
        """The record of `data` (a JSON object as read); values are kept as stored."""
        data = dict(data or {})
        typed = {k: data.pop(k) for k in cls._KEYS if k in data}
        absent = frozenset(k for k in cls._KEYS if k not in typed)
        return cls(**typed, extra=data, absent=absent)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object for the file: typed keys (those present) first, then `extra`."""
        out = {k: getattr(self, k) for k in self._KEYS if k not in self.absent}
        out.update(self.extra)
        return out

    def replace(self: R, **changes: Any) -> R:
        """A copy with `changes`; a changed typed key counts as present."""
        return dataclasses.replace(self, absent=self.absent - set(changes), **changes)


@dataclass(frozen=True)
class RunStatus(_Record):
    """status.json: the run's state and what it is doing (`Run.set_status` merges into it)."""

    schema_version: int = SCHEMA_VERSION  # 0 when the file records none
    state: str = "queued"  # one of rec_core.runs.run.RUN_STATES
    error: str | None = None  # failure text of a failed / stopped run
    phase: str | None = None  # "loading data", "encoding text", "training", "testing", ...
    progress: dict[str, Any] = field(default_factory=dict)  # {"epoch", "epochs", "step", ...}
    completion: dict[str, Any] | None = None  # how the run ended (see runs.summary); None before
    created_at: str | None = None  # ISO 8601 UTC
    started_at: str | None = None
    finished_at: str | None = None
    updated_at: str | None = None  # last write
    pid: int | None = None  # the process that owns the run
    hostname: str | None = None  # where that process runs

    _KEYS: ClassVar[tuple[str, ...]] = (
        "schema_version",
        "state",
        "error",
        "created_at",
        "started_at",
        "finished_at",
        "pid",
        "hostname",
        "phase",
        "progress",
        "completion",
        "updated_at",
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RunStatus:
        record = super().from_dict(data)
        return record if "schema_version" not in record.absent else dataclasses.replace(record, schema_version=0)


@dataclass(frozen=True)
class RunResults(_Record):
    """results.json: a finished (or stopped) run's metrics and what it was made with."""

    schema_version: int = SCHEMA_VERSION  # 0 when the file records none
    run_id: str | None = None
    model: str | None = None  # the model's registry name ("mf", "enhanced", ...)
    dataset: dict[str, Any] = field(default_factory=dict)  # InteractionData.summary()
    data_notes: list[str] = field(default_factory=list)  # what loading the data changed or dropped
    split: dict[str, Any] = field(default_factory=dict)  # Split.describe()
    split_notes: list[str] = field(default_factory=list)
    # Per item set ("primary", maybe "all_items"): {"metrics": {"ndcg@10": ...}, "n_users", ...}.
    # None: no valid / test results (stopped before its first epoch).
    valid: dict[str, Any] | None = None
    test: dict[str, Any] | None = None
    best_epoch: int | None = None  # the epoch whose weights were restored (0: the initial ones)
    best_phase: str | None = None  # that epoch's training phase ("train", "cached", ...)
    phases: list[dict[str, Any]] = field(default_factory=list)  # each planned phase with epochs
    epochs_run: int | None = None
    stopped: bool = False  # ended by a stop request or signal
    early_stopped: bool = False  # patience ran out
    completion: dict[str, Any] = field(default_factory=dict)  # {"state", "reason", "summary", ...}
    n_trainable_params: int | None = None
    processes: int = 1  # > 1: trained by torchrun's processes
    phase_alone: dict[str, Any] = field(default_factory=dict)  # {phase: {"epoch", "valid", "test", "note"}}
    timings: dict[str, float] = field(default_factory=dict)  # seconds: load_s, fit_s, total_s, ...
    environment: dict[str, Any] = field(default_factory=dict)  # versions, device, code fingerprint
    model_info: dict[str, Any] = field(default_factory=dict)  # the model's describe()
    warm_start_run: str | None = None  # the MF run whose ID weights started this one
    warm_start: dict[str, Any] | None = None  # that run's settings
    files: dict[str, Any] = field(default_factory=dict)  # path -> {"size", "sha256"}

    _KEYS: ClassVar[tuple[str, ...]] = (
        "schema_version",
        "run_id",
        "model",
        "dataset",
        "data_notes",
        "split",
        "split_notes",
        "valid",
        "test",
        "best_epoch",
        "best_phase",
        "phases",
        "epochs_run",
        "stopped",
        "early_stopped",
        "completion",
        "n_trainable_params",
        "processes",
        "phase_alone",
        "timings",
        "environment",
        "model_info",
        "warm_start_run",
        "warm_start",
        "files",
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RunResults:
        record = super().from_dict(data)
        return record if "schema_version" not in record.absent else dataclasses.replace(record, schema_version=0)

    def item_set(self, split: str = "test", name: str = "primary") -> dict[str, Any]:
        """One item set's results of `split` ("valid" / "test"): {"metrics", "n_users", ...};
        {} when absent."""
        sets = self.test if split == "test" else self.valid
        value = sets.get(name) if isinstance(sets, dict) else None
        return value if isinstance(value, dict) else {}

    def metrics(self, split: str = "test", name: str = "primary") -> dict[str, float]:
        """The metrics of one item set of `split`, e.g. {"ndcg@10": 0.12, ...}; {} when absent."""
        value = self.item_set(split, name).get("metrics")
        return value if isinstance(value, dict) else {}

    def test_metrics(self, name: str = "primary") -> dict[str, float]:
        return self.metrics("test", name)

    @property
    def code(self) -> str | None:
        """The fingerprint of the training code that made the run (None: not recorded)."""
        value = self.environment.get("code") if isinstance(self.environment, dict) else None
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class HistoryRow(_Record):
    """One line of history.jsonl: a trained epoch (or the initial validation, epoch 0)."""

    epoch: int = 0
    phase: str | None = None  # "train", "cached", "dynamic", "initial", ...
    loss: dict[str, float] = field(default_factory=dict)  # mean of each named loss part
    seconds: float = 0.0  # the epoch's training time
    valid: dict[str, float] | None = None  # validation metrics, when the epoch was validated
    best_epoch: int | None = None
    best_phase: str | None = None

    _KEYS: ClassVar[tuple[str, ...]] = ("epoch", "phase", "loss", "seconds", "valid", "best_epoch", "best_phase")
