"""Render the reference solution of a built tree: a self-contained solve.sh of reverse edits."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict

from harness.plant import ReverseEdit

SOLVE_TEMPLATE = """#!/usr/bin/env bash
# Reference solution: restore the correct platform by undoing every planted edit.
# Usage: solve.sh [TARGET]   (default /app). Changes nothing unless every edit applies.
set -euo pipefail
TARGET="${1:-/app}"
python3 - "$TARGET" <<'SYNAPSE_SOLVE_PY'
import base64, json, sys
from pathlib import Path

EDITS = json.loads(base64.b64decode("@PAYLOAD@").decode("utf-8"))


def occurrences(text, needle):
    count, start = 0, text.find(needle)
    while needle and start != -1:
        count, start = count + 1, text.find(needle, start + 1)
    return count


root = Path(sys.argv[1])
if not root.is_dir():
    sys.exit(f"solve.sh: target {root} is not a directory")
texts = {}
for number, edit in enumerate(EDITS, 1):
    name = edit["file"]
    if name not in texts:
        path = root / name
        if not path.is_file():
            sys.exit(f"solve.sh: fix {number}/{len(EDITS)}: {name} is missing")
        texts[name] = path.read_bytes().decode("utf-8")
    found = occurrences(texts[name], edit["find"])
    if found != 1:
        sys.exit(
            f"solve.sh: fix {number}/{len(EDITS)} ({edit['bug']}): expected text found "
            f"{found} times in {name} (must be exactly once); nothing was changed"
        )
    texts[name] = texts[name].replace(edit["find"], edit["replace"], 1)
for name, text in texts.items():
    (root / name).write_bytes(text.encode("utf-8"))
print(f"solve.sh: applied {len(EDITS)} fixes to {len(texts)} files in {root}")
SYNAPSE_SOLVE_PY
"""


def render_solve_sh(reverses: list[ReverseEdit]) -> str:
    """Return solve.sh applying ``reverses`` last-first to a target tree."""
    ordered = [asdict(r) for r in reversed(reverses)]
    payload = base64.b64encode(json.dumps(ordered).encode("utf-8")).decode("ascii")
    return SOLVE_TEMPLATE.replace("@PAYLOAD@", payload)
