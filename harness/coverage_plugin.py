"""Pytest plugin (harness only, never shipped): which test, fixture or import runs each line.

Loaded with ``-p`` by ``harness.coverage_map`` from a folder outside the tree, in a run of
main's suite with the tree as working directory. Coverage starts when this module is imported,
before any conftest or test module, and labels every executed line of the tree's code (tests
excluded) with the innermost of these contexts:

- ``import:<module>`` while a module of the tree executes its body (whenever that happens: at
  collection, inside a fixture or inside a test); state built there is shared by every test;
- ``fixture:<baseid>::<name>`` while a fixture's setup runs; a higher-scoped fixture's value
  is shared by every test that uses it, which the map records per test;
- ``test:<nodeid>`` during a test's setup, call and teardown otherwise;
- ``session`` before, between and after tests (collection, hooks).

At the end it writes ``.coverage-map.json`` into the tree.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import sys
from collections.abc import Generator, Sequence
from pathlib import Path
from types import ModuleType

import coverage
import pytest

_ROOT = Path.cwd().resolve()
_cov = coverage.Coverage(
    data_file=None,
    config_file=False,
    include=[f"{_ROOT}/*"],
    omit=[f"{_ROOT}/tests/*"],
)
_stack: list[str] = ["session"]
_uses: dict[str, set[str]] = {}


def _push(context: str) -> None:
    """Enter a context; it labels lines until the matching pop."""
    _stack.append(context)
    _cov.switch_context(context)


def _pop() -> None:
    """Leave the innermost context."""
    _stack.pop()
    _cov.switch_context(_stack[-1])


class _TrackedLoader(importlib.abc.Loader):
    """Wrap a tree module's loader so its body runs under an ``import:`` context."""

    def __init__(self, loader: importlib.machinery.SourceFileLoader, name: str) -> None:
        self._loader = loader
        self._name = name

    def __getattr__(self, attribute: str) -> object:
        return getattr(self._loader, attribute)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        """Delegate module creation."""
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        """Run the module body under its import context."""
        _push(f"import:{self._name}")
        try:
            self._loader.exec_module(module)
        finally:
            _pop()


class _ImportTracker(importlib.abc.MetaPathFinder):
    """Meta-path finder that asks the other finders and wraps loaders of tree modules."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        """Return the spec the next finders give, its loader wrapped when it is a tree file."""
        for finder in sys.meta_path:
            if id(finder) == id(self) or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is None:
                continue
            origin = getattr(spec, "origin", None) or ""
            loader = spec.loader
            if isinstance(loader, importlib.machinery.SourceFileLoader) and origin.startswith(
                str(_ROOT) + "/"
            ):
                spec.loader = _TrackedLoader(loader, name)
            return spec
        return None


sys.meta_path.insert(0, _ImportTracker())
_cov.start()
_cov.switch_context("session")


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[object], request: pytest.FixtureRequest
) -> Generator[None, None, None]:
    """Label a fixture's setup with the fixture's own context."""
    _push(f"fixture:{fixturedef.baseid}::{fixturedef.argname}")
    try:
        yield
    finally:
        _pop()


def pytest_runtest_logstart(nodeid: str, location: object) -> None:
    """Label the test's setup, call and teardown with the test."""
    _stack[:] = ["session", f"test:{nodeid}"]
    _cov.switch_context(_stack[-1])


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Record every fixture the test used, including ones requested dynamically."""
    used: set[str] = set()
    info = getattr(item, "_fixtureinfo", None)
    for name, defs in getattr(info, "name2fixturedefs", {}).items():
        used.update(f"{d.baseid}::{name}" for d in defs)
    request = getattr(item, "_request", None)
    for name, fixturedef in getattr(request, "_fixture_defs", {}).items():
        used.add(f"{fixturedef.baseid}::{name}")
    _uses[item.nodeid] = used


def pytest_runtest_logfinish(nodeid: str, location: object) -> None:
    """Return to the session context between tests."""
    _stack[:] = ["session"]
    _cov.switch_context("session")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop coverage and write the line-to-contexts map into the tree."""
    _cov.stop()
    data = _cov.get_data()
    contexts: dict[str, int] = {}
    files: dict[str, dict[str, list[int]]] = {}
    for measured in data.measured_files():
        rel = Path(measured).resolve().relative_to(_ROOT).as_posix()
        lines = data.contexts_by_lineno(measured)
        files[rel] = {
            str(line): sorted(contexts.setdefault(c, len(contexts)) for c in labels)
            for line, labels in lines.items()
        }
    document = {
        "contexts": sorted(contexts, key=contexts.__getitem__),
        "files": files,
        "fixtures": {test: sorted(used) for test, used in sorted(_uses.items())},
    }
    (_ROOT / ".coverage-map.json").write_text(json.dumps(document), encoding="utf-8")
