"""A run as every rank of a multi-process (torchrun) run sees it: rank 0 creates and writes the
run folder; the other ranks compute with a read-only `RankRun` of it (rec_core/distributed.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rec_core import distributed
from rec_core.errors import ConfigError, RecCoreError
from rec_core.runs.store import Run

__all__ = ["RankRun", "share_run"]


class RankRun:
    """A run as a rank other than 0 of a multi-process run sees it (rec_core/distributed.py):
    its id, folder and config as rank 0 sent them; it reads the stop request and writes
    nothing (status, history, tables, checkpoint and results are rank 0's)."""

    def __init__(self, run_id: str, path: str | Path, config: dict[str, Any]) -> None:
        self.run_id, self.path, self._config = run_id, Path(path), config

    def config(self) -> dict[str, Any]:
        return self._config

    def stop_requested(self) -> bool:
        return (self.path / "STOP").exists()

    def results(self) -> None:
        return None

    def raw_status(self) -> dict[str, Any]:
        return {}

    def file_manifest(self, written: Any) -> dict[str, Any]:
        return {}

    def record_failure_in_place(self, error: str, pid: int) -> bool:
        return False

    def _ignore(self, *args: Any, **kwargs: Any) -> None:
        return None

    reserve_failure_note = set_status = append_history = write_results = write_table = save_checkpoint = _ignore


def share_run(run: Run | None, error: BaseException | None = None) -> Run | RankRun:
    """torchrun: rank 0 passes the run it created (or the input error that stopped it) to the
    other ranks, which get a `RankRun`; outside a multi-process group, `run` itself."""
    rank, world = distributed.current()
    if world == 1:
        assert run is not None or error is not None
        if error is not None:
            raise error
        return run  # type: ignore[return-value]  # one of them is set
    if rank == 0:
        if error is not None:
            message: tuple[Any, ...] = ("error", type(error).__name__, str(error))
        else:
            assert run is not None  # one of them is set
            message = ("run", run.run_id, str(run.path), run.config())
        distributed.broadcast_object(message)
        if error is not None:
            raise error
        return run  # type: ignore[return-value]
    message = distributed.broadcast_object(None)
    if message[0] == "error":
        raise (ConfigError("run", message[2]) if message[1] == "ConfigError" else RecCoreError(message[2]))
    return RankRun(message[1], message[2], message[3])
