"""Pytest plugin that writes each test's outcome as signed JSON lines (never parse stdout).

Loaded by the scorer with ``-p`` from a directory outside the scored tree. It reads its
destination and signing key from the environment once, at import, and removes them so code
under test cannot see them. Lines are flushed as tests finish, so a killed run still leaves
every outcome reported so far.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import inspect
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _pytest.python
import _pytest.reports
import _pytest.runner
import pytest

_dumps = json.dumps
_new_mac = hmac.new
_sha256 = hashlib.sha256

# Pytest internals whose replacement would let code under test forge outcomes.
_GUARDED = (
    (_pytest.runner, "call_and_report"),
    (_pytest.runner, "runtestprotocol"),
    (_pytest.runner, "pytest_runtest_call"),
    (_pytest.runner, "pytest_runtest_makereport"),
    (_pytest.runner.CallInfo, "from_call"),
    (_pytest.reports.TestReport, "from_item_and_call"),
    (_pytest.python.Function, "runtest"),
    (_pytest.python, "pytest_pyfunc_call"),
)


def _raw(owner: object, name: str) -> object:
    """Return an attribute as stored, so bound classmethods compare by identity."""
    return vars(owner).get(name)


_ORIGINALS = tuple(_raw(owner, name) for owner, name in _GUARDED)
_WATCHED_HOOKS = (
    "pytest_runtest_protocol",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_runtest_logreport",
    "pytest_pyfunc_call",
    "pytest_report_teststatus",
)


class _Writer:
    """Append signed JSON lines to the report file."""

    def __init__(self, path: str, key: bytes) -> None:
        self._file = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115
        self._key = key

    def write(self, record: dict[str, Any]) -> None:
        """Sign and flush one record."""
        if self._file is None:
            return
        body = _dumps(record, sort_keys=True)
        mac = _new_mac(self._key, body.encode(), _sha256).hexdigest() if self._key else ""
        self._file.write(_dumps({"body": body, "mac": mac}) + "\n")
        self._file.flush()


_writer = _Writer(
    os.environ.pop("SYNAPSE_REPORT_PATH", ""), os.environ.pop("SYNAPSE_REPORT_KEY", "").encode()
)
_phases: dict[str, dict[str, str]] = {}
_tampered: set[str] = set()
_rootdir: list[Path] = []


def _phase_outcome(report: _pytest.reports.TestReport) -> str:
    """Map one phase report to passed, failed, error, skipped or xfailed."""
    xfail = hasattr(report, "wasxfail")
    if report.when == "call":
        if report.skipped:
            return "xfailed" if xfail else "skipped"
        return "passed" if report.passed else "failed"
    if report.failed:
        return "error"
    if report.skipped:
        return "xfailed" if xfail else "skipped"
    return "passed"


def final_outcome(phases: dict[str, str]) -> str:
    """Combine setup, call and teardown outcomes into one test outcome."""
    setup = phases.get("setup", "error")
    if setup != "passed":
        return setup
    call = phases.get("call", "error")
    if call == "passed" and phases.get("teardown", "passed") == "error":
        return "error"
    return call


def _project_code(value: object, root: Path, tests: Path) -> Path | None:
    """Return the file outside tests/ (inside ``root``) that defines a function, if it is one."""
    code = getattr(inspect.unwrap(value), "__code__", None) if callable(value) else None
    if code is None:
        return None
    path = Path(code.co_filename).resolve()
    return path if path.is_relative_to(root) and not path.is_relative_to(tests) else None


def _defined_names(path: Path) -> set[str]:
    """Return the names of the functions a module's source defines at its top level."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return set()
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    return {node.name for node in tree.body if isinstance(node, kinds)}


def _replaced_test_functions(root: Path, tests: Path) -> list[str]:
    """Name functions defined under tests/ whose binding now holds project code.

    Code under test that swaps a test, a fixture helper or an assertion helper for its own
    function (e.g. ``tests.utils.checks.same = lambda *a: None``) leaves the module's name
    bound to a function defined outside tests/.
    """
    found: list[str] = []
    modules = [
        m for m in list(sys.modules.values()) if isinstance(getattr(m, "__file__", None), str)
    ]
    for module in modules:
        path = Path(str(module.__file__)).resolve()
        if path.suffix != ".py" or not path.is_relative_to(tests):
            continue
        for name in sorted(_defined_names(path)):
            culprit = _project_code(getattr(module, name, None), root, tests)
            if culprit is not None:
                where = culprit.relative_to(root)
                found.append(f"{path.relative_to(root)}::{name} replaced from {where}")
    return found


def _check_tampering(session_config: pytest.Config) -> None:
    """Record any guarded pytest internal or outcome hook that code under test replaced."""
    for (owner, name), original in zip(_GUARDED, _ORIGINALS, strict=True):
        if _raw(owner, name) is not original:
            _tampered.add(f"{getattr(owner, '__name__', owner)}.{name}")
    if not _rootdir:
        return
    root, tests = _rootdir[0], _rootdir[0] / "tests"
    for hook in _WATCHED_HOOKS:
        for impl in getattr(session_config.hook, hook).get_hookimpls():
            module = sys.modules.get(getattr(type(impl.plugin), "__module__", ""))
            source = getattr(impl.plugin, "__file__", None) or getattr(module, "__file__", None)
            if source is None:
                continue
            path = Path(source).resolve()
            if path.is_relative_to(root) and not path.is_relative_to(tests):
                _tampered.add(f"{hook}:{path.relative_to(root)}")
    _tampered.update(_replaced_test_functions(root, tests))


def pytest_configure(config: pytest.Config) -> None:
    """Remember the root directory used to tell test code from other code."""
    _rootdir.append(Path(str(config.rootpath)).resolve())


# The hooks below take what they call as default arguments, bound when this module is
# imported: code under test that rebinds this module's names (say ``final_outcome``) changes
# nothing they do, and the rebinding itself is reported as tampering.
_write: Callable[[dict[str, Any]], None] = _writer.write
_Write = Callable[[dict[str, Any]], None]
# Filled at the end of the module with every name it binds.
_OWN: dict[str, object] = {}


def pytest_collection_finish(session: pytest.Session, _write: _Write = _write) -> None:
    """Report every collected test with its marker names."""
    for item in session.items:
        markers = sorted({m.name for m in item.iter_markers()})
        _write({"kind": "collected", "id": item.nodeid, "markers": markers})


def pytest_collectreport(report: pytest.CollectReport, _write: _Write = _write) -> None:
    """Report collectors that failed to import or collect."""
    if report.failed:
        message = str(report.longrepr)[-2000:]
        _write({"kind": "collect_error", "id": report.nodeid, "message": message})


def pytest_runtest_logreport(
    report: pytest.TestReport,
    _phases: dict[str, dict[str, str]] = _phases,
    _phase_outcome: Callable[[pytest.TestReport], str] = _phase_outcome,
) -> None:
    """Remember the outcome of each phase of a test."""
    if report.when is None:  # typed optional on the base report; a test report always has it
        return
    _phases.setdefault(report.nodeid, {})[report.when] = _phase_outcome(report)


def pytest_runtest_logfinish(
    nodeid: str,
    location: tuple[str, int | None, str],
    _phases: dict[str, dict[str, str]] = _phases,
    _final: Callable[[dict[str, str]], str] = final_outcome,
    _write: _Write = _write,
) -> None:
    """Write the combined outcome of a finished test."""
    outcome = _final(_phases.pop(nodeid, {}))
    _write({"kind": "test", "id": nodeid, "outcome": outcome})


def pytest_sessionfinish(
    session: pytest.Session,
    exitstatus: int | pytest.ExitCode,
    _check: Callable[[pytest.Config], None] = _check_tampering,
    _tampered: set[str] = _tampered,
    _write: _Write = _write,
    _own: dict[str, object] = _OWN,
    _module: dict[str, object] = globals(),
) -> None:
    """Write the tampering verdict and the exit status."""
    _check(session.config)
    for name, value in _own.items():
        if _module.get(name) is not value:
            _tampered.add(f"report plugin's {name}")
    if _tampered:
        _write({"kind": "tamper", "names": sorted(_tampered)})
    _write({"kind": "finish", "exitstatus": int(exitstatus)})


# Every name this module binds, as bound at import (compared when the session finishes).
_OWN.update((k, v) for k, v in globals().items() if not k.startswith("__"))
