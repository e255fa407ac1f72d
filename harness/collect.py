"""Collect the expected test IDs of main (with category and service), cached by content."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from environment.expected import CollectError, collect_expected
from harness.build import temporary_tree
from harness.shipping import shipped_files

__all__ = ["CollectError", "cache_dir", "collect_main", "fingerprint"]


def fingerprint(root: Path) -> str:
    """Return a hash of every shipped file of ``root`` (paths and bytes)."""
    digest = hashlib.sha256()
    for rel, path in sorted(shipped_files(root).items()):
        digest.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def cache_dir(root: Path) -> Path:
    """Return the harness cache folder (inside the ignored build/ folder)."""
    return root / "build" / ".cache"


def collect_main(root: Path) -> dict[str, dict[str, str | None]]:
    """Return {test id: {category, service}} for main's suite, from cache when unchanged."""
    cache = cache_dir(root) / f"expected-{fingerprint(root)}.json"
    if cache.is_file():
        cached: dict[str, dict[str, str | None]] = json.loads(cache.read_text(encoding="utf-8"))
        return cached
    with temporary_tree(root, []) as built:
        try:
            expected = collect_expected(built.path)
        except CollectError as exc:
            raise CollectError(f"main's {exc}") from None
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    partial.replace(cache)
    return expected
