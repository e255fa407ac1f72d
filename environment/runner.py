"""Run pytest on a tree in a clean subprocess with the report plugin loaded from outside it."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
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
        f"--timeout={limits.per_test}",
        f"--basetemp={basetemp}",
        *extra,
    ]


def _run(command: list[str], tree: Path, env: dict[str, str], log: Path, total: int) -> bool:
    """Run a command in its own process group; kill the group on timeout. Return finished."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command, cwd=tree, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            proc.wait(timeout=total)
            return True
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return False


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


def run_suite(
    tree: Path,
    extra_args: list[str] | None = None,
    limits: RunLimits | None = None,
    log_path: Path | None = None,
    plugins: Sequence[Path] = (),
) -> SuiteReport:
    """Run pytest on ``tree`` and return the signed per-test report.

    ``plugins`` are extra pytest plugin files (e.g. a coverage recorder), copied next to the
    report plugin and loaded with ``-p`` after it. Every file or folder the run creates,
    modifies or deletes inside ``tree`` is listed in the report's ``tree_changes``.
    """
    limits = limits or RunLimits()
    tree = Path(tree).resolve()
    with tempfile.TemporaryDirectory(prefix="synapse-run-") as scratch:
        scratch_dir = Path(scratch)
        plugin_dir = scratch_dir / "plugin"
        plugin, extra = _install_plugins(plugin_dir, plugins, list(extra_args or []))
        home = scratch_dir / "home"
        home.mkdir()
        key = secrets.token_hex(32)
        report_path = scratch_dir / "report.jsonl"
        env = clean_env(plugin_dir, home)
        env.update(SYNAPSE_REPORT_PATH=str(report_path), SYNAPSE_REPORT_KEY=key)
        basetemp = scratch_dir / "tmp"
        command = _pytest_command(tree, plugin, limits, extra, basetemp)
        log = log_path or scratch_dir / "pytest.log"
        before = snapshot(tree)
        finished = _run(command, tree, env, log, limits.total)
        report = read_report(report_path, key.encode())
        report.tree_changes = changes(before, snapshot(tree))
        if not finished:
            report.problems.append(f"suite exceeded the total time bound of {limits.total}s")
        elif report.exitstatus is None:
            text = log.read_text(encoding="utf-8", errors="replace").replace(str(tree), "<tree>")
            tail = text.strip().splitlines()[-3:]
            report.problems.append("pytest output ends with: " + " | ".join(tail))
        return report
