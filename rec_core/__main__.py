import os
import sys

from rec_core.cli import main


def _run() -> int:
    try:
        code = main()
        sys.stdout.flush()  # inside the try: `runs | head` may close the pipe before this
    except BrokenPipeError:
        # The reader left; point stdout at /dev/null so the flush at exit stays quiet.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141
    return code


sys.exit(_run())
