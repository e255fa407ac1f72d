"""Collect the expected test IDs of main (with category and service), cached by content."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from environment.categories import category_of, service_of
from environment.runner import RunLimits, run_suite
from harness.build import temporary_tree
from harness.shipping import shipped_files


class CollectError(Exception):
    """Main's suite could not be collected."""


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
        report = run_suite(built.path, ["--collect-only"], RunLimits(total=300))
    if report.collect_errors or not report.collected:
        errors = "; ".join(sorted(report.collect_errors)) or "no tests collected"
        raise CollectError(f"main's suite does not collect: {errors}")
    expected = {
        test: {"category": category_of(test), "service": service_of(markers)}
        for test, markers in sorted(report.collected.items())
    }
    missing = sorted(t for t, info in expected.items() if None in info.values())
    if missing:
        raise CollectError(f"tests without a category or one service marker: {missing[:5]}")
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    partial.replace(cache)
    return expected
