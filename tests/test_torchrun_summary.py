"""rec_core/torchrun.py's one line and exit code for ranks that ended non-zero: a stop on a
signal is a stop even when torchrun's own closing SIGTERM killed a rank that had already left
its signal handler (CI, under load: "error: 2 of 2 processes failed" after a clean stop)."""

from __future__ import annotations

import signal

from rec_core.torchrun import summary

TERM, KILLED_BY_TERM = 128 + signal.SIGTERM, -signal.SIGTERM


def test_every_rank_stopped_on_the_signal_is_a_stop() -> None:
    line, code = summary([(0, TERM), (1, TERM)], total=2)
    assert code == 143 and line.startswith("stopped: process 0 ended after SIGTERM (exit code 143)")


def test_a_rank_closed_by_torchruns_sigterm_after_a_stop_is_still_a_stop() -> None:
    line, code = summary([(0, TERM), (1, KILLED_BY_TERM)], total=2)
    assert code == 143 and line.startswith("stopped: process 0 ended after SIGTERM")
    # The rank that stopped is named even when the closed one is listed first.
    line, code = summary([(1, KILLED_BY_TERM), (0, 128 + signal.SIGINT)], total=2)
    assert code == 130 and line.startswith("stopped: process 0 ended after SIGINT")


def test_a_failure_stays_a_failure() -> None:
    # A rank failed and torchrun closed the other: an error, with the failing rank's code.
    line, code = summary([(1, 1), (0, KILLED_BY_TERM)], total=2)
    assert code == 1 and line.startswith("error: 2 of 2 processes failed; first rank 1 (exit code 1)")
    # Killed by a signal with no rank stopping on one: not a stop; 128 + its number, as a shell says.
    line, code = summary([(0, KILLED_BY_TERM)], total=2)
    assert code == 143 and line.startswith("error: 1 of 2 processes failed; first rank 0 (killed by SIGTERM)")
    line, code = summary([(0, TERM), (1, -signal.SIGKILL)], total=2)
    assert code == 143 and line.startswith("error: 2 of 2 processes failed; first rank 0 (exit code 143)")
