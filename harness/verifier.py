"""Write a built tree's verifier bundle (``DIR.verifier/``): Harbor's ``tests/test.sh`` part.

The bundle is maintainer side, next to ``DIR.solution/``: ``test.sh``, a copy of the
``environment`` package (without its tests), main's ``tests/`` and ``pyproject.toml`` under
``pristine/``, and ``expected.json``. ``test.sh [TREE]`` (default ``/app``) runs the bundle's
scorer, never the tree's, and writes ``/logs/verifier/reward.json`` and ``reward.txt``
(``SYNAPSE_VERIFIER_LOGS`` overrides the folder). ``heldout/`` holds the planted bugs'
held-out variants; the scorer runs them after the visible suite, and ``reward.json`` carries
``heldout_pass_rate``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import environment
from harness.catalogue import Bug
from harness.heldout import write_bundle

TEST_SH = """#!/usr/bin/env bash
# Score the agent's tree with this bundle's scorer and pristine tests; always writes a reward.
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TREE="${1:-/app}"
LOGS="${SYNAPSE_VERIFIER_LOGS:-/logs/verifier}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$LOGS"
cd "$HERE"
env -u PYTHONSTARTUP -u PYTEST_ADDOPTS PYTHONPATH="$HERE" PYTHONSAFEPATH=1 PYTHONNOUSERSITE=1 \\
    "$PYTHON" -P -m environment.verifier "$TREE" --bundle "$HERE" --logs "$LOGS"
status=$?
if [ ! -s "$LOGS/reward.txt" ]; then
    echo 0.0 > "$LOGS/reward.txt"
    echo '{"reward": 0.0}' > "$LOGS/reward.json"
fi
exit $status
"""
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "tests")


def verifier_dir(out: Path) -> Path:
    """Return the sidecar folder holding a build's verifier: ``<out>.verifier``."""
    return out.with_name(out.name + ".verifier")


def write_verifier(root: Path, out: Path, expected: dict[str, Any], bugs: list[Bug]) -> Path:
    """Write the verifier bundle of the tree built at ``out`` with ``bugs``; return it."""
    bundle = verifier_dir(Path(out).resolve())
    shutil.rmtree(bundle, ignore_errors=True)
    # The scorer the harness itself runs (the tree's copy may be the agent's to edit).
    shutil.copytree(Path(environment.__file__).parent, bundle / "environment", ignore=IGNORED)
    pristine = bundle / "pristine"
    shutil.copytree(
        root / "tests", pristine / "tests", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copyfile(root / "pyproject.toml", pristine / "pyproject.toml")
    (bundle / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True), "utf-8")
    write_bundle(root, bugs, bundle / "heldout")
    script = bundle / "test.sh"
    script.write_text(TEST_SH, encoding="utf-8")
    script.chmod(0o755)
    return bundle
