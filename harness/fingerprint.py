"""Content fingerprints: of a planted tree, and of the tools that run suites on it."""

from __future__ import annotations

import hashlib
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import environment

_HARNESS = Path(__file__).resolve().parent
_ENVIRONMENT = Path(environment.__file__).resolve().parent
# Files whose change can change a run's outcome or how it is read back.
TOOL_FILES = (
    _ENVIRONMENT / "runner.py",
    _ENVIRONMENT / "report.py",
    _ENVIRONMENT / "report_plugin.py",
    _ENVIRONMENT / "snapshot.py",
    _HARNESS / "coverage_plugin.py",
    _HARNESS / "selection.py",
)


@lru_cache(maxsize=1)
def tool_version() -> str:
    """Return a hash of the runner, the report and coverage plugins, Python and installed dists."""
    digest = hashlib.sha256(sys.version.encode())
    for path in TOOL_FILES:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    dists = sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions())
    digest.update("\n".join(dists).encode())
    return digest.hexdigest()[:16]


def tree_fingerprint(tree: Path, extra: str = "") -> str:
    """Return a hash of every file of ``tree`` (paths and bytes), the tools and ``extra``."""
    digest = hashlib.sha256(f"{tool_version()}\0{extra}\0".encode())
    for path in sorted(p for p in tree.rglob("*") if p.is_file()):
        rel = path.relative_to(tree).as_posix()
        digest.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:24]
