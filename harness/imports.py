"""Static import graph of a tree's code: which modules can see a module's import-time state."""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

from harness.plant import read_text

CODE_DIRS = ("services", "shared", "environment")


def module_name(file: str) -> str:
    """Return the dotted module name of a repository-relative Python file."""
    name = file.removesuffix(".py").replace("/", ".")
    return name.removesuffix(".__init__")


def imported_modules(source: str, module: str = "", package: bool = False) -> set[str]:
    """Return every module an import in ``source`` can name.

    ``from a import b`` gives ``a`` and ``a.b``; relative imports resolve against ``module``.
    """
    names: set[str] = set()
    parts = module.split(".") if module else []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                keep = len(parts) - node.level + (1 if package else 0)
                base = ".".join(parts[: max(keep, 0)] + ([base] if base else []))
            if base:
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _parents(name: str) -> set[str]:
    """Return the packages whose ``__init__`` runs before a module: ``a``, ``a.b`` for ``a.b.c``."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def import_graph(root: Path) -> dict[str, set[str]]:
    """Return, for each module of the tree's code, the tree modules it imports (and parents).

    Parsing every module takes over a second, and a record or verify run asks once per edit of
    module-level code, so a graph is reused while no code file of the tree changes (same paths,
    sizes and modification times). Callers must not change the returned graph.
    """
    files = []
    for folder in CODE_DIRS:
        for path in sorted((root / folder).rglob("*.py")):
            stat = path.stat()
            files.append((path.relative_to(root).as_posix(), stat.st_mtime_ns, stat.st_size))
    return _parsed_graph(root.resolve(), tuple(files))


@lru_cache(maxsize=4)
def _parsed_graph(root: Path, files: tuple[tuple[str, int, int], ...]) -> dict[str, set[str]]:
    names = {module_name(rel): rel for rel, _, _ in files}
    graph: dict[str, set[str]] = {}
    for name, rel in names.items():
        package = rel.endswith("/__init__.py")
        try:
            found = imported_modules(read_text(root / rel), name, package)
        except SyntaxError:
            found = set(names)  # unreadable: assume it can see everything
        found |= {p for n in found for p in _parents(n)} | _parents(name)
        graph[name] = {n for n in found if n in names and n != name}
    return graph


def dependents(graph: dict[str, set[str]], module: str) -> set[str]:
    """Return ``module`` and every module that imports it, directly or through others."""
    seen, todo = {module}, [module]
    while todo:
        current = todo.pop()
        for name, imports in graph.items():
            if current in imports and name not in seen:
                seen.add(name)
                todo.append(name)
    return seen
