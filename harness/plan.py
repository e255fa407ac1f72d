"""Plan the suite runs of probe, record and verify: which tests each single-bug run needs."""

from __future__ import annotations

import hashlib
from pathlib import Path

from harness.catalogue import Bug
from harness.collect import collect_main
from harness.coverage_map import CoverageMap, coverage_map
from harness.probe import Probe, ProbeResult, new_failures
from harness.selection import select_tests


def selected_probes(root: Path, bug_sets: list[list[Bug]], cmap: CoverageMap | None) -> list[Probe]:
    """Return one probe per bug set, narrowed to the tests it can affect when ``cmap`` is given."""
    if cmap is None:
        return [Probe(bugs) for bugs in bug_sets]
    expected = list(collect_main(root))
    return [Probe(bugs, select_tests(root, cmap, expected, bugs)) for bugs in bug_sets]


def load_map(root: Path, full: bool) -> CoverageMap | None:
    """Return main's coverage map unless every run is to be a full one."""
    return None if full else coverage_map(root)


def sample(bugs: list[Bug], count: int, salt: str) -> list[Bug]:
    """Return ``count`` bugs chosen by a hash of ``salt`` (a fingerprint).

    Successive catalogues check different bugs; one catalogue always checks the same ones.
    """
    ranked = sorted(bugs, key=lambda b: hashlib.sha256(f"{salt}:{b.id}".encode()).hexdigest())
    return ranked[: max(0, count)]


def selection_disagreement(
    selected: ProbeResult, full: ProbeResult, baseline: ProbeResult
) -> list[str]:
    """Describe how a selected run's new failures differ from a full run's (empty: agree)."""
    narrow, wide = set(new_failures(selected, baseline)), set(new_failures(full, baseline))
    problems = [f"fails only in the full run (not selected): {t}" for t in sorted(wide - narrow)]
    problems += [f"fails only in the selected run: {t}" for t in sorted(narrow - wide)]
    return problems
