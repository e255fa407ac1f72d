"""Held-out variants of the catalogue: the verifier bundle, its static checks and its leak check.

Variants live in ``bugs/heldout/tests/`` laid out like ``tests/`` (so the suite's conftest files
and fixtures apply once the scorer copies them into a tree) and are named by each bug's
``heldout = [...]`` list, in the same node-ID form as ``fails``. They never ship.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path

from environment.heldout import VARIANTS_FILE
from harness.catalogue import Bug

HELDOUT_DIR = Path("bugs/heldout")
WORD = re.compile(r"\w+")


def heldout_root(root: Path) -> Path:
    """Return the folder holding the variants of the repository at ``root``."""
    return root / HELDOUT_DIR


def variant_files(root: Path) -> list[Path]:
    """Return the variant modules (``test_*.py``) under ``bugs/heldout/tests``, relative to it."""
    base = heldout_root(root)
    found = sorted((base / "tests").rglob("test_*.py")) if (base / "tests").is_dir() else []
    return [p.relative_to(base) for p in found]


def write_bundle(root: Path, bugs: list[Bug], dest: Path) -> Path:
    """Write the verifier bundle of ``bugs`` (their variants and ``variants.json``) to ``dest``."""
    source = heldout_root(root) / "tests"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if source.is_dir():
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(source, dest / "tests", ignore=ignore)
    groups = {b.id: {"fails": list(b.fails), "heldout": list(b.heldout)} for b in bugs}
    document = json.dumps({"groups": groups}, indent=1, sort_keys=True) + "\n"
    (dest / VARIANTS_FILE).write_text(document, encoding="utf-8")
    return dest


def _test_names(path: Path) -> set[str]:
    """Return ``name`` and ``Class::name`` of every test function a module defines."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names |= {
                f"{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            }
    return names


def check_variants(root: Path, bugs: dict[str, Bug], visible: set[str] | None) -> list[str]:
    """Return problems of the ``heldout`` lists: unknown files or tests, clashes, shared IDs."""
    base = heldout_root(root)
    problems: list[str] = []
    owners: dict[str, str] = {}
    names: dict[Path, set[str]] = {}
    for rel in variant_files(root):
        if (root / rel).exists():
            problems.append(f"{rel.as_posix()}: a variant module has the path of a visible one")
    for bug in bugs.values():
        for test in bug.heldout:
            if visible is not None and test in visible:
                problems.append(f"{bug.id}: heldout names a visible test {test}")
                continue
            file, _, name = test.partition("::")
            path = base / file
            if not file.startswith("tests/") or not path.is_file() or not name:
                problems.append(f"{bug.id}: heldout names {test}, not a test in {HELDOUT_DIR}")
                continue
            if path not in names:
                names[path] = _test_names(path)
            if name.split("[", 1)[0] not in names[path]:
                problems.append(f"{bug.id}: heldout names {test}, which its module does not define")
            if owners.setdefault(test, bug.id) != bug.id:
                problems.append(f"{bug.id}: heldout {test} is also listed by {owners[test]}")
    return problems


def coverage_info(bugs: dict[str, Bug]) -> list[str]:
    """Return the count of bugs with variants and name the ones without."""
    without = [b.id for b in bugs.values() if not b.heldout]
    count = sum(len(b.heldout) for b in bugs.values())
    lines = [f"{len(bugs) - len(without)} of {len(bugs)} bugs have held-out variants ({count})"]
    if without:
        lines.append(f"{len(without)} bug(s) without variants: " + " ".join(without))
    return lines


def leaked_variants(root: Path, tree: Path) -> list[str]:
    """Return leaks of the variants into a built tree: their files or their test names."""
    problems = [
        f"{rel.as_posix()}: a held-out variant module ships"
        for rel in variant_files(root)
        if (tree / rel).exists() or (tree / HELDOUT_DIR / rel).exists()
    ]
    base = heldout_root(root)
    names = {n.rsplit("::", 1)[-1] for rel in variant_files(root) for n in _test_names(base / rel)}
    names = {n for n in names if n.startswith("test_")}
    if not names:
        return problems
    for path in sorted(tree.rglob("*.py")):
        words = set(WORD.findall(path.read_text(encoding="utf-8", errors="replace")))
        found = sorted(names & words)
        problems += [f"{path.relative_to(tree).as_posix()}: names held-out test {n}" for n in found]
    return problems
