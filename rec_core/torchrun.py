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

__all__ = ["main"]

# Exit codes of a rank that stopped on SIGHUP / SIGINT / SIGTERM (rec_core/cli.py): not failures.
_STOPPED = (128 + signal.SIGHUP, 128 + signal.SIGINT, 128 + signal.SIGTERM)


def _how(exitcode: int) -> str:
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


def main(argv: list[str] | None = None) -> int:
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        run(args)
    except ChildFailedError as exc:
        rank, first = exc.get_first_failure()
        total = args.nproc_per_node
        if all(f.exitcode in _STOPPED for f in exc.failures.values()):  # stopped by a signal, results saved
            name = signal.Signals(first.exitcode - 128).name
            print(
                f"stopped: process {rank} ended after {name} (exit code {first.exitcode}); the run's status.json "
                "says what was saved",
                file=sys.stderr,
            )
            return first.exitcode
        print(
            f"error: {len(exc.failures)} of {total} processes failed; first rank {rank} ({_how(first.exitcode)}); "
            "their own error lines are above, and the run's status.json says how it ended",
            file=sys.stderr,
        )
        return 128 - first.exitcode if first.exitcode < 0 else first.exitcode or 1
    except SignalException as exc:  # the launcher itself was signalled (it passed it on to every rank)
        print(f"stopped: torchrun received {exc.sigval.name}", file=sys.stderr)
        return 128 + int(exc.sigval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
