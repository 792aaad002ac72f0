import sys

from rec_core.cli import main

sys.exit(main())
