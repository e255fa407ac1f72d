"""Entry point: ``python -m benchmarks serving|storage|features|monitoring|experiments``."""

import sys

if sys.argv[1:2] == ["features"]:
    from benchmarks.features import main as features

    sys.exit(features(sys.argv[2:]))

if sys.argv[1:2] in (["monitoring"], ["experiments"]):
    from benchmarks.tracking import main as tracking

    sys.exit(tracking(sys.argv[1:]))

from benchmarks.serving import main

sys.exit(main())
