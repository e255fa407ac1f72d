"""Entry point: ``python -m benchmarks serving|storage|features``."""

import sys

if sys.argv[1:2] == ["features"]:
    from benchmarks.features import main as features

    sys.exit(features(sys.argv[2:]))

from benchmarks.serving import main

sys.exit(main())
