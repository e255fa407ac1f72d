"""Resolve paths an action names so they stay inside an episode's tree."""

from __future__ import annotations

from pathlib import Path, PurePosixPath


class ActionError(ValueError):
    """An action is malformed or would reach outside its episode's tree."""


def safe_path(tree: Path, rel: str) -> Path:
    """Return ``tree / rel`` after checking it cannot leave ``tree``.

    Refused: empty or absolute paths, ``..`` parts, NUL bytes, and any path whose existing
    prefix goes through a symlink (a link inside the tree may point anywhere, so following one
    could write outside the tree even when the text of the path looks harmless).
    """
    if not rel or "\0" in rel or "\\" in rel:
        raise ActionError(f"invalid path {rel!r}")
    pure = PurePosixPath(rel)
    if pure.is_absolute():
        raise ActionError(f"absolute path {rel!r} is not allowed")
    if any(part == ".." for part in pure.parts):
        raise ActionError(f"path {rel!r} may not contain '..'")
    parts = [p for p in pure.parts if p != "."]
    if not parts:
        raise ActionError(f"path {rel!r} names the tree itself")
    current = tree
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise ActionError(f"path {rel!r} goes through a symlink")
    resolved = current.resolve()
    if not resolved.is_relative_to(tree.resolve()):
        raise ActionError(f"path {rel!r} resolves outside the tree")
    return current
