"""Run the suite on throwaway trees with chosen bugs planted, several runs at a time.

Finished runs are cached by the fingerprint of the planted tree (every file after planting,
the tests to run, the runner and Python), so an interrupted ``record`` or ``verify`` resumes
and a bug whose files and tests did not change is not run again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from environment.heldout import place_variants, remove_variants
from environment.report import SuiteReport
from environment.runner import RunLimits, default_workers, run_suite
from harness.build import temporary_tree
from harness.catalogue import Bug
from harness.collect import cache_dir
from harness.fingerprint import tree_fingerprint
from harness.heldout import heldout_root
from harness.plant import PlantError

RUN_ARGS = ["-rfE"]


def default_jobs() -> int:
    """Return how many suite runs go at once by default: the number of cores."""
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Probe:
    """One suite run to make: bugs to plant, tests to run (None: all), cache use.

    ``heldout`` names variants of ``bugs/heldout`` to run after the suite in the same tree (a
    second session, cached on its own). ``args`` are extra pytest options of this run (part of
    its cache key), e.g. ``--maxfail=1`` where the first failure is all a caller needs.
    """

    bugs: list[Bug]
    tests: list[str] | None = None
    reuse: bool = True
    heldout: tuple[str, ...] = ()
    args: tuple[str, ...] = ()


@dataclass
class ProbeResult:
    """Outcome of running the suite with one set of bugs planted."""

    bugs: list[str]
    report: SuiteReport = field(default_factory=SuiteReport)
    error: str | None = None
    selected: list[str] | None = None
    cached: bool = False
    heldout: SuiteReport | None = None

    @property
    def failing(self) -> list[str]:
        """Return the sorted IDs of tests that failed, errored or were not run."""
        return self.report.failing


def _cache_file(
    root: Path,
    tree: Path,
    tests: list[str] | None,
    limits: RunLimits | None,
    args: tuple[str, ...] = (),
) -> Path:
    """Return the cache entry of a planted tree and what is run on it."""
    limit = asdict(limits or RunLimits())
    extra = json.dumps({"args": RUN_ARGS + list(args), "tests": tests, "limits": limit})
    return cache_dir(root) / "probes" / f"{tree_fingerprint(tree, extra)}.json"


def _cached_run(
    root: Path,
    tree: Path,
    tests: list[str] | None,
    limits: RunLimits | None,
    use_cache: bool,
    log_path: Path | None = None,
    args: tuple[str, ...] = (),
) -> tuple[SuiteReport, bool]:
    """Return the report of running ``tests`` (None: all) in ``tree`` and whether it was cached."""
    entry = _cache_file(root, tree, tests, limits, args)
    if use_cache and log_path is None:
        report = _load(entry)
        if report is not None:
            return report, True
    workers = 1 if tests else default_workers()
    command = RUN_ARGS + list(args) + list(tests or [])
    report = run_suite(tree, command, limits, log_path, workers=workers)
    _store(entry, report)
    return report, False


def _run_heldout(
    root: Path, tree: Path, tests: tuple[str, ...], limits: RunLimits | None, use_cache: bool
) -> SuiteReport:
    """Place the variants in ``tree``, run ``tests`` of them (cached by the tree with them in)."""
    placed = place_variants(tree, heldout_root(root))
    try:
        return _cached_run(root, tree, sorted(tests), limits, use_cache)[0]
    finally:
        remove_variants(tree, placed)


def _load(path: Path) -> SuiteReport | None:
    """Return a cached report, or None when there is none (or it is unreadable)."""
    try:
        return SuiteReport(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def _store(path: Path, report: SuiteReport) -> None:
    """Cache a report of a run that finished cleanly (an interrupted run is never cached)."""
    if report.exitstatus is None or report.problems:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.{id(report)}.tmp")
    partial.write_text(json.dumps(asdict(report), sort_keys=True), encoding="utf-8")
    partial.replace(path)


def probe_one(
    root: Path,
    probe: Probe | list[Bug],
    limits: RunLimits | None = None,
    log_path: Path | None = None,
    cache: bool = True,
) -> ProbeResult:
    """Plant the bugs in a throwaway copy of ``root`` and run its suite (or the chosen tests).

    With ``log_path`` the run's pytest output is kept there and the cache is not read; with
    ``cache`` false it is not read either (``--no-cache``). Clean runs are always stored.
    """
    probe = probe if isinstance(probe, Probe) else Probe(list(probe))
    ids = [b.id for b in probe.bugs]
    try:
        with temporary_tree(root, probe.bugs) as built:
            reuse = cache and probe.reuse
            report, hit = _cached_run(
                root, built.path, probe.tests, limits, reuse, log_path, probe.args
            )
            result = ProbeResult(ids, report, selected=probe.tests, cached=hit)
            if probe.heldout:
                result.heldout = _run_heldout(root, built.path, probe.heldout, limits, cache)
            return result
    except PlantError as exc:
        return ProbeResult(ids, error=str(exc), selected=probe.tests)


def log_name(index: int, bugs: list[Bug]) -> str:
    """Return the ``index``-th probe's log name: ``000-main.log``, ``007-L1+M2.log``, ...

    More than three planted bugs are counted instead of listed (``003-42-bugs.log``).
    """
    planted = "+".join(b.id for b in bugs) if len(bugs) <= 3 else f"{len(bugs)}-bugs"
    return f"{index:03d}-{planted or 'main'}.log"


def probe_many(
    root: Path,
    probes: list[Probe] | list[list[Bug]],
    jobs: int | None = None,
    limits: RunLimits | None = None,
    log_dir: Path | None = None,
    cache: bool = True,
    done: Callable[[int, ProbeResult], None] | None = None,
) -> list[ProbeResult]:
    """Probe several bug sets, ``jobs`` suite runs at a time (default: cores), in input order.

    With ``log_dir`` every run's pytest output is kept there, one file per run. ``done`` is
    called with each run's index and result as it finishes (from the pool's threads).
    """
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
    items = [p if isinstance(p, Probe) else Probe(list(p)) for p in probes]

    def run(item: tuple[int, Probe]) -> ProbeResult:
        index, probe = item
        log = None if log_dir is None else log_dir / log_name(index, probe.bugs)
        result = probe_one(root, probe, limits, log, cache)
        if done is not None:
            done(index, result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs or default_jobs())) as pool:
        return list(pool.map(run, enumerate(items)))


def new_failures(result: ProbeResult, baseline: ProbeResult) -> list[str]:
    """Return tests that pass in ``baseline`` but not in ``result`` (failed, errored or not run).

    A run of chosen tests only speaks for those tests.
    """
    passing = set(result.report.passing)
    scope = None if result.selected is None else set(result.selected)
    return [
        t for t in baseline.report.passing if t not in passing and (scope is None or t in scope)
    ]


def describe_problems(result: ProbeResult) -> list[str]:
    """Return run-level problems of a probe: plant errors, collection errors, tampering."""
    problems = [result.error] if result.error else []
    problems += [f"collection error: {nodeid}" for nodeid in sorted(result.report.collect_errors)]
    problems += result.report.problems if not result.error else []
    problems += [f"tampering detected: {name}" for name in result.report.tampered]
    return problems
