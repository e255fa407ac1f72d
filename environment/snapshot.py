"""Snapshot a tree's files before a suite run and list what the run created, changed or deleted."""

from __future__ import annotations

import os
from pathlib import Path

# (size in bytes, modification time in ns) of a file; None for a folder.
Stamp = tuple[int, int] | None


def snapshot(tree: Path) -> dict[str, Stamp]:
    """Return every file and folder under ``tree`` (POSIX relative path) with its stamp.

    Size and mtime are enough: a run that writes a file changes its mtime, and stat-ing ~1,000
    files costs a few milliseconds where hashing them would read every byte.
    """
    stamps: dict[str, Stamp] = {}
    for current, dirs, files in os.walk(tree):
        here = Path(current)
        for name in dirs:
            stamps[(here / name).relative_to(tree).as_posix() + "/"] = None
        for name in files:
            path = here / name
            try:
                info = path.lstat()
            except OSError:
                continue
            stamps[path.relative_to(tree).as_posix()] = (info.st_size, info.st_mtime_ns)
    return stamps


def changes(before: dict[str, Stamp], after: dict[str, Stamp]) -> list[str]:
    """Return ``created: P``, ``modified: P`` and ``deleted: P`` lines, sorted by path."""
    found = [(p, "created") for p in after if p not in before]
    found += [(p, "deleted") for p in before if p not in after]
    found += [(p, "modified") for p in before if p in after and before[p] != after[p]]
    return [f"{kind}: {path}" for path, kind in sorted(found)]
