"""Collect a tree's expected test IDs with the category and service each one counts for."""

from __future__ import annotations

from pathlib import Path

from environment.categories import category_of, service_of
from environment.runner import RunLimits, run_suite


class CollectError(Exception):
    """A tree's suite could not be collected."""


def collect_expected(tree: Path) -> dict[str, dict[str, str | None]]:
    """Return {test id: {category, service}} for the suite of ``tree`` (a collect-only run)."""
    report = run_suite(tree, ["--collect-only"], RunLimits(total=300))
    if report.collect_errors or not report.collected:
        errors = "; ".join(sorted(report.collect_errors)) or "no tests collected"
        raise CollectError(f"the suite does not collect: {errors}")
    expected = {
        test: {"category": category_of(test), "service": service_of(markers)}
        for test, markers in sorted(report.collected.items())
    }
    missing = sorted(t for t, info in expected.items() if None in info.values())
    if missing:
        raise CollectError(f"tests without a category or one service marker: {missing[:5]}")
    return expected
