"""Build an agent environment tree: shipped files, planted bugs, and a solution sidecar."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.catalogue import Bug
from harness.plant import ReverseEdit, plant
from harness.shipping import copy_shipped
from harness.solution import render_solve_sh


class BuildError(Exception):
    """The output location cannot be used."""


@dataclass
class BuiltTree:
    """A built tree and what was planted in it."""

    path: Path
    bugs: list[str]
    files: list[str]
    reverses: list[ReverseEdit]


def solution_dir(out: Path) -> Path:
    """Return the sidecar folder holding a build's solution: ``<out>.solution``."""
    return out.with_name(out.name + ".solution")


def _prepare(out: Path) -> None:
    """Empty ``out`` if it is missing, empty or a previous build; otherwise refuse."""
    sidecar = solution_dir(out)
    if out.exists() and any(out.iterdir()) and not (sidecar / "manifest.json").is_file():
        raise BuildError(f"{out} exists and is not a previous build; refusing to overwrite it")
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(sidecar, ignore_errors=True)
    shutil.rmtree(out.with_name(out.name + ".verifier"), ignore_errors=True)
    out.mkdir(parents=True)


def build_tree(root: Path, out: Path, bugs: list[Bug]) -> BuiltTree:
    """Copy what ships from ``root`` into ``out`` and plant ``bugs`` in catalogue order."""
    files = copy_shipped(root, out)
    reverses = plant(out, bugs)
    return BuiltTree(out, [b.id for b in bugs], files, reverses)


def write_solution(built: BuiltTree, manifest_extra: dict[str, Any]) -> Path:
    """Write ``solve.sh`` and ``manifest.json`` next to a built tree."""
    sidecar = solution_dir(built.path)
    sidecar.mkdir(parents=True, exist_ok=True)
    solve = sidecar / "solve.sh"
    solve.write_text(render_solve_sh(built.reverses), encoding="utf-8")
    solve.chmod(0o755)
    manifest = {"bugs": built.bugs, "files": built.files, **manifest_extra}
    (sidecar / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    return sidecar


def build_environment(
    root: Path, out: Path, bugs: list[Bug], manifest_extra: dict[str, Any]
) -> BuiltTree:
    """Build the agent tree into ``out`` with its solution sidecar."""
    out = Path(out).resolve()
    _prepare(out)
    try:
        built = build_tree(root, out, bugs)
    except Exception:
        shutil.rmtree(out, ignore_errors=True)
        raise
    write_solution(built, manifest_extra)
    return built


@contextmanager
def temporary_tree(root: Path, bugs: list[Bug]) -> Iterator[BuiltTree]:
    """Yield a throwaway built tree (no sidecar) with ``bugs`` planted."""
    with tempfile.TemporaryDirectory(prefix="synapse-tree-") as scratch:
        yield build_tree(root, Path(scratch) / "tree", bugs)
