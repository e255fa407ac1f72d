"""Run the full suite on throwaway trees with chosen bugs planted, two runs at a time."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from environment.report import SuiteReport
from environment.runner import RunLimits, run_suite
from harness.build import temporary_tree
from harness.catalogue import Bug
from harness.plant import PlantError

JOBS = 2


@dataclass
class ProbeResult:
    """Outcome of running the suite with one set of bugs planted."""

    bugs: list[str]
    report: SuiteReport = field(default_factory=SuiteReport)
    error: str | None = None

    @property
    def failing(self) -> list[str]:
        """Return the sorted IDs of tests that failed, errored or were not run."""
        return self.report.failing


def probe_one(
    root: Path, bugs: list[Bug], limits: RunLimits | None = None, log_path: Path | None = None
) -> ProbeResult:
    """Plant ``bugs`` in a throwaway copy of ``root`` and run its whole suite.

    With ``log_path`` the run's pytest output is kept there (it is discarded otherwise).
    """
    ids = [b.id for b in bugs]
    try:
        with temporary_tree(root, bugs) as built:
            return ProbeResult(ids, run_suite(built.path, ["-rfE"], limits, log_path))
    except PlantError as exc:
        return ProbeResult(ids, error=str(exc))


def log_name(index: int, bugs: list[Bug]) -> str:
    """Return the ``index``-th probe's log name: ``000-main.log``, ``007-L1+M2.log``, ...

    More than three planted bugs are counted instead of listed (``003-42-bugs.log``).
    """
    planted = "+".join(b.id for b in bugs) if len(bugs) <= 3 else f"{len(bugs)}-bugs"
    return f"{index:03d}-{planted or 'main'}.log"


def probe_many(
    root: Path,
    bug_sets: list[list[Bug]],
    jobs: int = JOBS,
    limits: RunLimits | None = None,
    log_dir: Path | None = None,
) -> list[ProbeResult]:
    """Probe several bug sets, ``jobs`` suite runs at a time, keeping input order.

    With ``log_dir`` every run's pytest output is kept there, one file per run.
    """
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)

    def probe(item: tuple[int, list[Bug]]) -> ProbeResult:
        index, bugs = item
        log = None if log_dir is None else log_dir / log_name(index, bugs)
        return probe_one(root, bugs, limits, log)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(probe, enumerate(bug_sets)))


def new_failures(result: ProbeResult, baseline: ProbeResult) -> list[str]:
    """Return tests that pass in ``baseline`` but not in ``result`` (failed, errored or not run)."""
    passing = set(result.report.passing)
    return [t for t in baseline.report.passing if t not in passing]


def describe_problems(result: ProbeResult) -> list[str]:
    """Return run-level problems of a probe: plant errors, collection errors, tampering."""
    problems = [result.error] if result.error else []
    problems += [f"collection error: {nodeid}" for nodeid in sorted(result.report.collect_errors)]
    problems += result.report.problems if not result.error else []
    problems += [f"tampering detected: {name}" for name in result.report.tampered]
    return problems
