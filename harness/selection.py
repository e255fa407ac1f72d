"""Choose the tests a bug set can affect, from main's coverage map; None means run them all.

An edit inside one function body (in main and in the planted file alike) selects every test
that ran that body, every test using a fixture whose setup ran it (a session fixture's value
reaches tests that never run its code), and every test in a test file (or under a conftest, or
importing a test helper) that imports the edited module.

An edit at module or class level that only binds names (assignments, imports, def and class
statements, no decorator touched, no bare call) selects the tests that can see the module's
import-time state: those that ran code of the module or of any module importing it, directly
or not, and those whose files import one of these modules.

Everything else runs the whole suite:

- a non-Python file, a file under ``tests/``, or text that is not found once in main;
- a module-level statement that does something (a call, a loop), or a decorator;
- a function whose body ran while a module was being imported, or outside any test
  (collection, hooks): its effects live in module state;
- a function under a caching decorator (a cache hit runs none of its lines), or one whose
  kind (generator or coroutine) the edit changes (creating one runs none of its lines);
- a module-level edit where code of the module or its importers ran outside any test, or of a
  module whose body ran although no test or module imports it (loaded by name, as a settings
  module is);
- a planted file that no longer parses.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from harness.catalogue import Bug, Edit
from harness.coverage_map import CoverageMap
from harness.imports import dependents, import_graph, imported_modules, module_name
from harness.plant import occurrences, read_text

GLOBAL_CONTEXTS = ("session", "import:")
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
Found = tuple[str, FunctionNode, list[FunctionNode]]


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
    head, tail = Edit("", before, after).unchanged_ends()
    first = _line_of(text, at) + head
    spans = []
    for count in (len(old) - head - tail, len(new) - head - tail):
        spans.append((first - 1, first) if count == 0 else (first, first + count - 1))
    return spans[0], spans[1]


def _functions(node: ast.AST, prefix: str = "") -> Iterable[Found]:
    """Yield (qualified name, function node, enclosing functions) for every function."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{child.name}"
            if not isinstance(child, ast.ClassDef):
                yield name, child, []
            mine: list[FunctionNode] = [] if isinstance(child, ast.ClassDef) else [child]
            for inner, found, outer in _functions(child, name + "."):
                yield inner, found, mine + outer
        else:
            yield from _functions(child, prefix)


def enclosing_function(source: str, span: tuple[int, int]) -> Found | None:
    """Return the innermost function whose body holds the whole span, or None."""
    best: Found | None = None
    for name, node, outer in _functions(ast.parse(source)):
        start, end = node.body[0].lineno, node.end_lineno or node.lineno
        inside = start <= span[0] and span[1] <= end
        if inside and (best is None or start >= best[1].body[0].lineno):
            best = (name, node, outer)
    return best


def _kind(node: FunctionNode) -> tuple[bool, bool]:
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


def _cached(nodes: list[FunctionNode]) -> bool:
    """Return whether any of the functions carries a decorator that looks like a cache."""
    return any("cache" in ast.unparse(d).lower() for n in nodes for d in n.decorator_list)


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


def _names_any(text: str, imports: frozenset[str], modules: set[str]) -> bool:
    """Return whether a file imports or mentions any of the modules."""
    return bool(imports & modules) or any(m in text for m in modules)


def importing_tests(root: Path, expected: Iterable[str], modules: set[str]) -> set[str]:
    """Return the tests whose files import (or name) any of ``modules``.

    That is every test of such a test file, every test under such a conftest, and the tests of
    files importing a helper module that does.
    """
    files = [(p.relative_to(root).as_posix(), *_read(p)) for p in (root / "tests").rglob("*.py")]
    targets = set(modules)
    while True:  # helpers importing helpers: grow the targets to a fixed point
        helpers = {
            module_name(rel)
            for rel, text, imports in files
            if not rel.rsplit("/", 1)[-1].startswith(("test_", "conftest"))
            and _names_any(text, imports, targets)
        }
        if helpers <= targets:
            break
        targets |= helpers
    chosen: set[str] = set()
    for rel, text, imports in files:
        name = rel.rsplit("/", 1)[-1]
        # A conftest counts when it imports a target; a plugin named in ``pytest_plugins``
        # only lends fixtures, and fixture setups are in the coverage map already.
        named = (
            bool(imports & targets) if name == "conftest.py" else _names_any(text, imports, targets)
        )
        if name.startswith(("test_", "conftest")) and named:
            scope = rel.rsplit("/", 1)[0] + "/" if name == "conftest.py" else rel + "::"
            chosen |= {t for t in expected if t.startswith(scope)}
    return chosen


def _declarative(source: str, span: tuple[int, int]) -> bool:
    """Return whether the top-level statements a span touches only bind names.

    Binding means assignments, imports, def and class statements (class bodies alike); a
    decorator in the span does not count as binding.
    """

    def touches(node: ast.stmt | ast.expr) -> bool:
        decorators: list[ast.expr] = getattr(node, "decorator_list", [])
        first = min([node.lineno] + [d.lineno for d in decorators])
        return first <= span[1] and span[0] <= (node.end_lineno or node.lineno)

    binding: tuple[type[ast.stmt], ...] = (ast.Assign, ast.AnnAssign, ast.Import)
    binding += (ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    module = ast.parse(source)
    for statement in module.body:
        if touches(statement) and not isinstance(statement, binding):
            return False
        if isinstance(statement, ast.ClassDef) and touches(statement):
            inner = [s for s in statement.body if touches(s)]
            if any(not isinstance(s, (*binding, ast.Expr)) for s in inner):
                return False
    return not any(
        touches(d) for node in ast.walk(module) for d in getattr(node, "decorator_list", [])
    )


def _ran(cmap: CoverageMap, contexts: set[str]) -> set[str] | None:
    """Return the tests behind a set of contexts, or None when any is import- or session-wide."""
    if any(c.startswith(GLOBAL_CONTEXTS) for c in contexts):
        return None
    chosen = {c.removeprefix("test:") for c in contexts if c.startswith("test:")}
    for context in contexts:
        if context.startswith("fixture:"):
            chosen |= cmap.users_of(context.removeprefix("fixture:"))
    return chosen


def _module_level(root: Path, cmap: CoverageMap, expected: list[str], file: str) -> set[str] | None:
    """Return the tests that can see a module's import-time state.

    Those are the tests that ran code of the module or of any module importing it (directly or
    not), and those whose files import one of these modules.
    """
    seen = dependents(import_graph(root), module_name(file))
    chosen: set[str] = set()
    for name in seen:
        lines = cmap.files.get(_file_of(root, name), {})
        contexts = {cmap.contexts[i] for ids in lines.values() for i in ids}
        # Module bodies run at import; code run outside any test could reach every test.
        tests = _ran(cmap, {c for c in contexts if not c.startswith("import:")})
        if tests is None:
            return None
        chosen |= tests
    chosen |= importing_tests(root, expected, seen)
    if not chosen and _body_ran(cmap, file):
        # Loaded, yet no test and no importing module can be named: it was loaded by name
        # (a settings module, a plugin), and its state reaches any test.
        return None
    return chosen


def _body_ran(cmap: CoverageMap, file: str) -> bool:
    """Return whether the map saw a module's body run (an import context on its lines)."""
    lines = cmap.files.get(file, {})
    return any(cmap.contexts[i].startswith("import:") for ids in lines.values() for i in ids)


def _file_of(root: Path, module: str) -> str:
    """Return the repository-relative file of a dotted module name."""
    base = module.replace(".", "/")
    return f"{base}/__init__.py" if (root / base / "__init__.py").is_file() else f"{base}.py"


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
        flat = _declarative(text, main_span) and _declarative(planted, planted_span)
    except SyntaxError:
        return None
    if found is None and again is None:
        return _module_level(root, cmap, list(expected), edit.file) if flat else None
    if found is None or again is None or found[0] != again[0]:
        return None
    name, node, outer = found
    if _kind(node) != _kind(again[1]) or _cached([node, *outer, again[1], *again[2]]):
        return None
    body = range(node.body[0].lineno, (node.end_lineno or node.lineno) + 1)
    chosen = _ran(cmap, cmap.contexts_of(edit.file, body))
    if chosen is None:
        return None
    return chosen | importing_tests(root, list(expected), {module_name(edit.file)})


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
