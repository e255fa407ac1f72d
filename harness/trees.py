"""Compare built trees file by file."""

from __future__ import annotations

from pathlib import Path


def diff_trees(left: Path, right: Path) -> list[str]:
    """Return the files that differ between two trees (missing, extra or changed)."""
    files = {p.relative_to(left).as_posix() for p in left.rglob("*") if p.is_file()}
    other = {p.relative_to(right).as_posix() for p in right.rglob("*") if p.is_file()}
    problems = [f"{f}: only in the solved tree" for f in sorted(other - files)]
    problems += [f"{f}: missing from the solved tree" for f in sorted(files - other)]
    problems += [
        f"{f}: differs from main"
        for f in sorted(files & other)
        if (left / f).read_bytes() != (right / f).read_bytes()
    ]
    return problems
