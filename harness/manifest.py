"""Compute what a build's manifest promises: bugs, expected tests and expected passing set."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from harness.catalogue import Bug
from harness.collect import CollectError, collect_main, fingerprint

ALL_BUGS_PASSING = Path("bugs/_all_bugs_passing.json")


def catalogue_fingerprint(root: Path, catalogue: dict[str, Bug]) -> str:
    """Return a hash of main's shipped files and every bug's edits (not its metadata)."""
    edits = [[b.id, [[e.file, e.before, e.after] for e in b.edits]] for b in catalogue.values()]
    digest = hashlib.sha256(fingerprint(root).encode())
    digest.update(json.dumps(edits).encode())
    return digest.hexdigest()[:16]


def read_all_bugs_passing(root: Path, catalogue: dict[str, Bug]) -> list[str] | None:
    """Return the recorded passing set of the all-bugs tree if it matches the current tree."""
    path = root / ALL_BUGS_PASSING
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("fingerprint") != catalogue_fingerprint(root, catalogue):
        return None
    return list(data.get("passing", []))


def write_all_bugs_passing(root: Path, catalogue: dict[str, Bug], passing: list[str]) -> None:
    """Record the passing set of the all-bugs tree with the fingerprint it belongs to."""
    data = {"fingerprint": catalogue_fingerprint(root, catalogue), "passing": sorted(passing)}
    (root / ALL_BUGS_PASSING).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def expected_passing(
    root: Path, catalogue: dict[str, Bug], bugs: list[Bug], expected: list[str]
) -> list[str] | None:
    """Return the passing set a build should show, when the catalogue determines it."""
    if not bugs:
        return expected
    if len(bugs) == len(catalogue):
        return read_all_bugs_passing(root, catalogue)
    if len(bugs) == 1:
        fails = set(bugs[0].fails)
        return [t for t in expected if t not in fails]
    return None


def manifest_extra(root: Path, catalogue: dict[str, Bug], bugs: list[Bug]) -> dict[str, Any]:
    """Return the manifest fields beyond the bug list."""
    try:
        expected = sorted(collect_main(root))
    except CollectError as exc:
        return {"expected_tests": None, "expected_passing": None, "note": str(exc)}
    return {
        "expected_tests": expected,
        "expected_passing": expected_passing(root, catalogue, bugs, expected),
    }
