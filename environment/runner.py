"""Run pytest on a tree in a clean subprocess with the report plugin loaded from outside it."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from environment.report import SuiteReport, read_report
from environment.snapshot import changes, snapshot

PLUGIN_SOURCE = Path(__file__).with_name("report_plugin.py")


@dataclass(frozen=True)
class RunLimits:
    """Time bounds of one suite run, in seconds."""

    per_test: int = 30
    total: int = 900


def clean_env(plugin_dir: Path, home: Path) -> dict[str, str]:
    """Return a minimal environment that ignores the caller's Python and pytest settings."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(plugin_dir),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONNOUSERSITE": "1",
        "PYTHONSAFEPATH": "1",
    }


def _pytest_command(
    tree: Path, plugin: str, limits: RunLimits, extra: list[str], basetemp: Path
) -> list[str]:
    """Build the pytest command line for a tree.

    Each run gets its own ``--basetemp``: pytest's shared numbered temp folders are pruned by
    whichever session starts next, which would delete files under a concurrent run's tests.
    Asserts run plain: a run is read for outcomes only, and rewriting every test module's
    asserts for richer failure messages is about a third of collection.
    """
    return [
        sys.executable,
        "-P",
        "-m",
        "pytest",
        "-p",
        plugin,
        "-c",
        str(tree / "pyproject.toml"),
        "--rootdir",
        str(tree),
        "-p",
        "no:cacheprovider",
        "--assert=plain",
        f"--timeout={limits.per_test}",
        f"--basetemp={basetemp}",
        *extra,
    ]


def _install_plugins(
    plugin_dir: Path, plugins: Sequence[Path], extra: list[str]
) -> tuple[str, list[str]]:
    """Copy the report plugin (random name) and ``plugins`` into ``plugin_dir``.

    Return the report plugin's module name and ``extra`` with a ``-p`` for each other plugin.
    """
    plugin = f"_synapse_report_{secrets.token_hex(6)}"
    plugin_dir.mkdir()
    shutil.copyfile(PLUGIN_SOURCE, plugin_dir / f"{plugin}.py")
    for source in plugins:
        shutil.copyfile(source, plugin_dir / source.name)
        extra = ["-p", source.stem, *extra]
    return plugin, extra


def default_workers() -> int:
    """Return how many pytest processes a whole-suite run uses: two when the machine has two."""
    return min(2, os.cpu_count() or 1)


def suite_modules(tree: Path) -> list[str]:
    """Return the suite's test modules (``tests/**/test_*.py``) relative to ``tree``, sorted."""
    return sorted(p.relative_to(tree).as_posix() for p in (tree / "tests").rglob("test_*.py"))


def shard(files: Sequence[str], workers: int) -> list[list[str]]:
    """Deal ``files`` round-robin into at most ``workers`` non-empty shards.

    Files stay whole (a module's tests share one process, as in a plain run) and the deal
    depends only on the sorted file list, so a tree always runs in the same shards. Neighbours
    in path order are alike (same category folder), so dealing them alternately balances time.
    """
    shards = [list(files[i::workers]) for i in range(max(1, workers))]
    return [s for s in shards if s]


def merge(reports: Sequence[SuiteReport]) -> SuiteReport:
    """Combine the reports of shards that ran disjoint sets of test modules."""
    merged = SuiteReport()
    for part in reports:
        merged.collected.update(part.collected)
        for test_id, outcome in part.outcomes.items():
            if test_id in merged.outcomes:
                merged.tampered.append(f"test {test_id} was reported twice")
            merged.outcomes.setdefault(test_id, outcome)
        merged.collect_errors.update(part.collect_errors)
        merged.tampered.extend(part.tampered)
        merged.problems.extend(p for p in part.problems if p not in merged.problems)
    statuses = [part.exitstatus for part in reports]
    if None not in statuses:
        merged.exitstatus = max(s for s in statuses if s is not None)
    return merged


@dataclass(frozen=True)
class _Shard:
    """One pytest process of a run: its command, report file, signing key and log."""

    command: list[str]
    report: Path
    key: str
    log: Path


def _start(shard_: _Shard, tree: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start one shard in its own process group with its own report destination."""
    shard_env = dict(env, SYNAPSE_REPORT_PATH=str(shard_.report), SYNAPSE_REPORT_KEY=shard_.key)
    with open(shard_.log, "wb") as out:
        return subprocess.Popen(
            shard_.command,
            cwd=tree,
            env=shard_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_all(procs: Sequence[subprocess.Popen[bytes]], total: int) -> bool:
    """Wait for every process within ``total`` seconds overall; kill the rest. Return finished."""
    deadline = time.monotonic() + total
    finished = True
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            finished = False
    if not finished:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    return finished


def run_suite(
    tree: Path,
    extra_args: list[str] | None = None,
    limits: RunLimits | None = None,
    log_path: Path | None = None,
    plugins: Sequence[Path] = (),
    workers: int = 1,
) -> SuiteReport:
    """Run pytest on ``tree`` and return the signed per-test report.

    ``plugins`` are extra pytest plugin files (e.g. a coverage recorder), copied next to the
    report plugin and loaded with ``-p`` after it. Every file or folder the run creates,
    modifies or deletes inside ``tree`` is listed in the report's ``tree_changes``.

    With ``workers`` above 1 the whole suite (``extra_args`` must then name no tests) runs as
    that many concurrent pytest processes over disjoint sets of test modules (see ``shard``),
    each signing its own report; the merged report is what one process would have written.
    """
    limits = limits or RunLimits()
    tree = Path(tree).resolve()
    with tempfile.TemporaryDirectory(prefix="synapse-run-") as scratch:
        scratch_dir = Path(scratch)
        plugin, extra = _install_plugins(scratch_dir / "plugin", plugins, list(extra_args or []))
        home = scratch_dir / "home"
        home.mkdir()
        env = clean_env(scratch_dir / "plugin", home)
        groups = shard(suite_modules(tree), workers) if workers > 1 else [[]]
        shards = [
            _Shard(
                _pytest_command(tree, plugin, limits, extra + files, scratch_dir / f"tmp{i}"),
                scratch_dir / f"report{i}.jsonl",
                secrets.token_hex(32),
                scratch_dir / f"pytest{i}.log",
            )
            for i, files in enumerate(groups or [[]])
        ]
        before = snapshot(tree)
        finished = _wait_all([_start(s, tree, env) for s in shards], limits.total)
        report = merge([read_report(s.report, s.key.encode()) for s in shards])
        report.tree_changes = changes(before, snapshot(tree))
        text = "".join(s.log.read_text(encoding="utf-8", errors="replace") for s in shards)
        if log_path is not None:
            log_path.write_text(text, encoding="utf-8")
        if not finished:
            report.problems.append(f"suite exceeded the total time bound of {limits.total}s")
        elif report.exitstatus is None:
            tail = text.replace(str(tree), "<tree>").strip().splitlines()[-3:]
            report.problems.append("pytest output ends with: " + " | ".join(tail))
        return report
