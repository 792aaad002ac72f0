"""SIGINT, SIGTERM and SIGHUP during a run (`rec_core.experiment.execute_run`): the first one
while training is the same cooperative stop as the app's Stop; before training, or a second
one, aborts at once (`RunInterrupted`). SIGHUP (the terminal or ssh session closed) is handled
as SIGTERM: by default it would kill the process and lose the best epoch."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

__all__ = ["HANDLED_SIGNALS", "RunInterrupted", "SignalGuard"]

# What a run handles (SIGHUP only where the platform has it).
HANDLED_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM) + (
    (signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()
)


class RunInterrupted(KeyboardInterrupt):
    """A run aborted by a signal: a second SIGINT / SIGTERM, or one before training began."""

    def __init__(self, signal_name: str, second: bool, stage: str) -> None:
        self.signal_name, self.second, self.stage = signal_name, second, stage
        super().__init__(f"{signal_name} ({'second signal' if second else stage})")

    def describe(self, live: dict[str, Any], saved: list[str] | None = None) -> str:
        """The run's error text; `saved`: the files this attempt had written when it aborted."""
        if self.second:
            kept = f"saved before it: {', '.join(saved)}" if saved else "nothing saved"
            return f"aborted by a second {self.signal_name} while {self.stage} (after epoch {live.get('epoch', 0)}); {kept}"
        return f"interrupted by {self.signal_name} while {self.stage}, before training began; nothing trained"


class SignalGuard:
    """SIGINT, SIGTERM and SIGHUP during a run, in the main thread of its process.

    The first signal while training asks the trainer for the same cooperative stop as the
    app's Stop (best epoch restored, tested, saved; state "stopped"). Before training there
    is nothing to save: it aborts at once. After training it lets the run finish writing.
    A second signal aborts at once (`RunInterrupted`, recorded as such).
    """

    def __init__(self, live: dict[str, Any] | None = None) -> None:
        self.live = live if live is not None else {}  # the trainer's epoch and best epoch so far
        self.received: str | None = None
        self.stage = "loading data"
        self.training = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "SignalGuard":
        if threading.current_thread() is threading.main_thread():
            for sig in HANDLED_SIGNALS:
                try:
                    self._previous[sig] = signal.signal(sig, self._handle)
                except (ValueError, OSError):
                    pass
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if self.received is not None:
            raise RunInterrupted(name, True, self.stage)
        self.received = name
        if not self.training and self.stage != "finishing":
            raise RunInterrupted(name, False, self.stage)
        what = self._stopping() if self.training else "finishing the results first"
        print(f"{name} received: {what}; send it again to abort at once", file=sys.stderr, flush=True)

    def _stopping(self) -> str:
        """What the cooperative stop will keep, as far as training has got."""
        best, epoch = int(self.live.get("best_epoch", 0) or 0), int(self.live.get("epoch", 0) or 0)
        if best > 0:
            return f"stopping after the current step: the best epoch ({best}) is restored, tested and saved"
        if epoch > 0:
            return "stopping after the current step: no epoch validated yet, so the last weights are tested and saved"
        return "stopping after the current step: no epoch has finished, so no model is saved"
