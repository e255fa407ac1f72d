"""Restore pristine tests and test configuration in a tree and remove import-time hooks."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# Files that change how Python or pytest starts, wherever they appear.
HOOK_NAMES = {"sitecustomize.py", "usercustomize.py"}
CONFIG_NAMES = {"pytest.ini", ".pytest.ini", "tox.ini", "setup.cfg"}
SKIP_DIRS = {".git", ".venv", "venv", "node_modules"}


def _stray(tree: Path, path: Path) -> bool:
    """Return whether a file must be removed before scoring."""
    rel = path.relative_to(tree)
    name = path.name
    if name in HOOK_NAMES or name.endswith(".pth") or name in CONFIG_NAMES:
        return True
    return name == "conftest.py" and rel.parts[0] != "tests"


def remove_strays(tree: Path) -> list[str]:
    """Delete hook files, stray conftest.py, extra pytest configs and bytecode caches."""
    removed: list[str] = []
    for current, dirs, files in os.walk(tree):
        here = Path(current)
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS or here != tree]
        for name in list(dirs):
            if name == "__pycache__":
                shutil.rmtree(here / name, ignore_errors=True)
                dirs.remove(name)
        for name in files:
            path = here / name
            if _stray(tree, path):
                path.unlink()
                removed.append(path.relative_to(tree).as_posix())
    return sorted(removed)


def restore_pristine(tree: Path, pristine: Path) -> None:
    """Replace the tree's tests/ and pyproject.toml with the pristine copies."""
    target = tree / "tests"
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.exists():
        shutil.rmtree(target)
    shutil.copytree(
        pristine / "tests", target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    config = tree / "pyproject.toml"
    if config.is_symlink():
        config.unlink()
    shutil.copyfile(pristine / "pyproject.toml", config)


def sanitize(tree: Path, pristine: Path) -> list[str]:
    """Make ``tree`` safe to score against ``pristine``; return the removed stray files."""
    removed = remove_strays(tree)
    restore_pristine(tree, pristine)
    return removed
