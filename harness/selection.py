"""Choose the tests a bug set can affect, from main's coverage map; None means run them all.

An edit narrows the run only when everything it changes sits inside one function body (in
main and in the planted file alike) and that function's body ran only inside tests and
fixtures. Anything else selects the whole suite:

- a non-Python file, a file under ``tests/``, or text that is not found once in main;
- lines outside a function body (module or class level, decorators, defaults, signatures):
  they run at import time, and an imported value is shared by every later test;
- a function whose body ran while a module was being imported, or outside any test
  (collection, hooks): its effects live in module state;
- a function under a caching decorator (a cache hit runs none of its lines), or one whose
  kind (generator or coroutine) the edit changes (creating one runs none of its lines);
- a planted file that no longer parses.

Otherwise the selection is every test that ran the function's body itself, every test using a
fixture whose setup ran it (a session fixture's value reaches tests that never run its
code), and every test in a test file (or under a conftest) that imports the edited module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from harness.catalogue import Bug, Edit
from harness.coverage_map import CoverageMap
from harness.plant import occurrences, read_text

GLOBAL_CONTEXTS = ("session", "import:")


def _line_of(text: str, offset: int) -> int:
    """Return the 1-based line number of a character offset."""
    return text.count("\n", 0, offset) + 1


def changed_lines(text: str, before: str, after: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """Return the changed line spans (first, last) of main's text and of the planted text.

    Whole lines the edit leaves alone at either end are not counted. A pure insertion or
    deletion spans the two lines around it.
    """
    at = text.find(before)
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    first = _line_of(text, at) + head
    spans = []
    for count in (len(old) - head - tail, len(new) - head - tail):
        spans.append((first - 1, first) if count == 0 else (first, first + count - 1))
    return spans[0], spans[1]


def _functions(node: ast.AST, prefix: str = "") -> Iterable[tuple[str, ast.AST, list[ast.AST]]]:
    """Yield (qualified name, function node, enclosing functions) for every function."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{child.name}"
            if not isinstance(child, ast.ClassDef):
                yield name, child, []
            for inner, found, outer in _functions(child, name + "."):
                yield inner, found, ([child] if not isinstance(child, ast.ClassDef) else []) + outer
        else:
            yield from _functions(child, prefix)


def enclosing_function(source: str, span: tuple[int, int]) -> tuple[str, ast.AST, list] | None:
    """Return the innermost function whose body holds the whole span, or None."""
    best = None
    for name, node, outer in _functions(ast.parse(source)):
        start, end = node.body[0].lineno, node.end_lineno or node.lineno
        if start <= span[0] and span[1] <= end:
            if best is None or start >= best[1].body[0].lineno:
                best = (name, node, outer)
    return best


def _kind(node: ast.AST) -> tuple[bool, bool]:
    """Return (is generator, is coroutine) of a function, ignoring nested scopes."""
    found = set()
    todo = list(ast.iter_child_nodes(node))
    while todo:
        child = todo.pop()
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        found.add(type(child))
        todo += ast.iter_child_nodes(child)
    generator = bool(found & {ast.Yield, ast.YieldFrom})
    return generator, isinstance(node, ast.AsyncFunctionDef)


def _cached(nodes: list[ast.AST]) -> bool:
    """Return whether any of the functions carries a decorator that looks like a cache."""
    return any("cache" in ast.unparse(d).lower() for n in nodes for d in n.decorator_list)


def module_name(file: str) -> str:
    """Return the dotted module name of a repository-relative Python file."""
    name = file.removesuffix(".py").replace("/", ".")
    return name.removesuffix(".__init__")


def imported_modules(source: str) -> set[str]:
    """Return every module an import statement in ``source`` can name (``from a import b``
    gives ``a`` and ``a.b``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@lru_cache(maxsize=4096)
def _scan(path: Path, stamp: int) -> tuple[str, frozenset[str]]:
    """Return a file's text and the modules it imports (``stamp`` keys the cache)."""
    text = read_text(path)
    try:
        return text, frozenset(imported_modules(text))
    except SyntaxError:
        return text, frozenset()


def _read(path: Path) -> tuple[str, frozenset[str]]:
    """Return a file's text and imports, parsed once per content change."""
    return _scan(path, path.stat().st_mtime_ns)


def importing_tests(root: Path, expected: Iterable[str], module: str) -> set[str]:
    """Return the tests of files (and of conftest folders) that import ``module``."""
    tests = set(expected)
    chosen: set[str] = set()
    for path in sorted((root / "tests").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        text, imports = _read(path)
        if module not in imports and module not in text:
            continue
        scope = rel.rsplit("/", 1)[0] + "/" if path.name == "conftest.py" else rel + "::"
        if not path.name.startswith(("test_", "conftest")):
            helper = module_name(rel)
            chosen |= {t for t in tests if helper in _file_imports(root, t)}
            continue
        chosen |= {t for t in tests if t.startswith(scope)}
    return chosen


def _file_imports(root: Path, test: str) -> frozenset[str]:
    """Return the modules a test's file imports."""
    return _read(root / test.split("::", 1)[0])[1]


def tests_for_edit(
    root: Path, cmap: CoverageMap, expected: Iterable[str], edit: Edit
) -> set[str] | None:
    """Return the tests one edit (applied alone to main) can affect, or None for all."""
    if not edit.file.endswith(".py") or edit.file.startswith("tests/"):
        return None
    path = root / edit.file
    text = read_text(path) if path.is_file() else ""
    if occurrences(text, edit.before) != 1:
        return None
    main_span, planted_span = changed_lines(text, edit.before, edit.after)
    at = text.find(edit.before)
    planted = text[:at] + edit.after + text[at + len(edit.before) :]
    try:
        found = enclosing_function(text, main_span)
        again = enclosing_function(planted, planted_span)
    except SyntaxError:
        return None
    if found is None or again is None or found[0] != again[0]:
        return None
    name, node, outer = found
    if _kind(node) != _kind(again[1]) or _cached([node, *outer, again[1], *again[2]]):
        return None
    body = range(node.body[0].lineno, (node.end_lineno or node.lineno) + 1)
    contexts = cmap.contexts_of(edit.file, body)
    if any(c.startswith(GLOBAL_CONTEXTS) for c in contexts):
        return None
    chosen = {c.removeprefix("test:") for c in contexts if c.startswith("test:")}
    for context in contexts:
        if context.startswith("fixture:"):
            chosen |= cmap.users_of(context.removeprefix("fixture:"))
    return chosen | importing_tests(root, expected, module_name(edit.file))


def select_tests(
    root: Path, cmap: CoverageMap, expected: Iterable[str], bugs: list[Bug]
) -> list[str] | None:
    """Return the sorted tests that can fail with ``bugs`` planted, or None to run them all."""
    if not bugs:
        return None
    expected = list(expected)
    chosen: set[str] = set()
    for bug in bugs:
        for edit in bug.edits:
            tests = tests_for_edit(root, cmap, expected, edit)
            if tests is None:
                return None
            chosen |= tests
    chosen &= set(expected)
    # An empty selection would make pytest run everything anyway; say so plainly.
    return sorted(chosen) if chosen else None
