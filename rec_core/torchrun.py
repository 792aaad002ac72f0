"""`python -m rec_core.torchrun ARGS`: torchrun (`python -m torch.distributed.run ARGS`, the same
arguments) that ends in one line instead of torchrun's Python traceback when a process fails.

Each rank prints its own one-line error (rec_core/cli.py); torchrun then raised ChildFailedError
and printed its traceback and a table of the failures. Here that becomes:

    error: 1 of 2 processes failed; first rank 1 (exit code 1); their own error lines are above,
    and the run's status.json says how it ended

with the first failure's exit code (128 + the signal's number for a rank killed by a signal),
and a signal to the launcher itself exits with 128 + its number, as a shell reports it. The
app's queue starts multi-process runs through this entry (rec_app/launch.py).
"""

from __future__ import annotations

import signal
import sys

__all__ = ["main", "summary"]

# Exit codes of a rank that stopped on SIGHUP / SIGINT / SIGTERM (rec_core/cli.py): not failures.
_STOPPED = (128 + signal.SIGHUP, 128 + signal.SIGINT, 128 + signal.SIGTERM)


def _how(exitcode: int) -> str:
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


def summary(failures: list[tuple[int, int]], total: int) -> tuple[str, int]:
    """The launcher's one line and exit code for the ranks that ended non-zero, `failures`
    (rank, exit code: negative for the signal that killed it) in the order they ended.

    A stop, not a failure: some rank stopped on a signal (128 + its number, rec_core/cli.py) and
    every other one did too or was killed by SIGTERM, which torchrun sends every rank still
    running once one has ended: a rank that had already left its signal handler dies of it (after
    a SIGTERM to one rank had stopped the run cleanly: 2 runs of 8 beside three busy processes,
    and once in CI, which then printed "error: 2 of 2 processes failed")."""
    stopped = [(rank, code) for rank, code in failures if code in _STOPPED]
    if stopped and all(code in _STOPPED or code == -signal.SIGTERM for _, code in failures):
        rank, code = stopped[0]
        name = signal.Signals(code - 128).name
        return (
            f"stopped: process {rank} ended after {name} (exit code {code}); the run's status.json says what was saved",
            code,
        )
    rank, code = failures[0]
    return (
        f"error: {len(failures)} of {total} processes failed; first rank {rank} ({_how(code)}); "
        "their own error lines are above, and the run's status.json says how it ended",
        128 - code if code < 0 else code or 1,
    )


def main(argv: list[str] | None = None) -> int:
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        run(args)
    except ChildFailedError as exc:
        ended = sorted(exc.failures.items(), key=lambda item: item[1].timestamp)
        line, code = summary([(rank, failure.exitcode) for rank, failure in ended], args.nproc_per_node)
        print(line, file=sys.stderr)
        return code
    except SignalException as exc:  # the launcher itself was signalled (it passed it on to every rank)
        print(f"stopped: torchrun received {exc.sigval.name}", file=sys.stderr)
        return 128 + int(exc.sigval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
