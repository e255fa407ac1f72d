"""Run the harness command line: ``python -m harness <command>``."""

import sys

from harness.cli import main

sys.exit(main())
