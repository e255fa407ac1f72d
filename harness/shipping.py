"""Decide which files of the repository ship to an agent, and copy them."""

from __future__ import annotations

import shutil
from pathlib import Path

SHIPPED_DIRS = ("services", "shared", "tests", "environment", "scenarios", "docker")
SHIPPED_FILES = ("pyproject.toml", "requirements.txt", "requirements-dev.txt", ".dockerignore")
SHIPPED_DOCS = ("TASKS_ALTERNATIVE.md", "TASKS_GREENFIELD.md")
SHIPPED_GLOBS = ("docker-compose*.yml", "docker-compose*.yaml")
AGENT_README = Path("docs/AGENT_README.md")
# Never shipped, wherever they appear.
EXCLUDED_NAMES = {"__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".DS_Store"}
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".sqlite3")
# Maintainer-only paths inside shipped folders.
EXCLUDED_PATHS = ("environment/tests",)
# Maintainer folders that the repository's .dockerignore names; they do not exist in the agent's
# tree, and naming them there would tell the agent what the repository holds besides the code.
MAINTAINER_DIRS = ("bugs", "harness", "infra", "docs")
DOCKERIGNORE = ".dockerignore"

GENERATED_README = """# SynapseNet

A 15-service ML training and serving platform (FastAPI, Django/DRF, Celery, numpy) with
failing tests. Make the test suite pass.

## Getting started

    python -m pip install -r requirements.txt -r requirements-dev.txt
    python -m pytest tests/

## Scoring

`python -m environment.reward RESULTS.json` turns per-test outcomes into a reward. Test folders
under `tests/` are weighted categories; missing, skipped or erroring tests count as failed.
"""


def _excluded(rel: Path) -> bool:
    """Return whether a repository-relative path must not ship."""
    if any(part in EXCLUDED_NAMES for part in rel.parts) or rel.suffix in EXCLUDED_SUFFIXES:
        return True
    text = rel.as_posix()
    return any(text == p or text.startswith(p + "/") for p in EXCLUDED_PATHS)


def _shipped_dir_files(root: Path) -> dict[str, Path]:
    """Map the shipped files under the shipped folders, exclusions left out."""
    files: dict[str, Path] = {}
    for folder in SHIPPED_DIRS:
        for path in sorted((root / folder).rglob("*")):
            rel = path.relative_to(root)
            if path.is_file() and not path.is_symlink() and not _excluded(rel):
                files[rel.as_posix()] = path
    return files


def shipped_files(root: Path) -> dict[str, Path]:
    """Map each shipped destination path (POSIX, relative) to its source file in ``root``."""
    files = _shipped_dir_files(root)
    for name in SHIPPED_FILES:
        if (root / name).is_file():
            files[name] = root / name
    for name in SHIPPED_DOCS:
        for source in (root / name, root / "docs" / name):
            if source.is_file():
                files[name] = source
                break
    for pattern in SHIPPED_GLOBS:
        for path in sorted(root.glob(pattern)):
            files[path.name] = path
    if (root / AGENT_README).is_file():
        files["README.md"] = root / AGENT_README
    return files


def agent_dockerignore(text: str) -> str:
    """Return a .dockerignore without the lines that name maintainer folders."""
    lines = text.splitlines(keepends=True)
    return "".join(line for line in lines if line.strip().strip("/") not in MAINTAINER_DIRS)


def copy_shipped(root: Path, dest: Path) -> list[str]:
    """Copy the shipped files of ``root`` into ``dest``; return the destination paths."""
    files = shipped_files(root)
    for rel, source in files.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        if rel == DOCKERIGNORE:
            target.write_text(agent_dockerignore(source.read_text("utf-8")), encoding="utf-8")
    if "README.md" not in files:
        (dest / "README.md").write_text(GENERATED_README, encoding="utf-8")
        files["README.md"] = dest / "README.md"
    return sorted(files)
