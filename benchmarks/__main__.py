"""Entry point: ``python -m benchmarks serving|storage|monitoring|experiments``."""

import sys

from benchmarks.serving import main

sys.exit(main())
