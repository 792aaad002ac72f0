import sys

from rec_core.cli import entry_point

sys.exit(entry_point())
