"""Entry point: ``python -m benchmarks serving|storage``."""

import sys

from benchmarks.serving import main

sys.exit(main())
