"""File safety for artifacts and checkpoints: root confinement and durable atomic writes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from shared.errors import UnsafeArtifactError


def resolve_inside(path: str | os.PathLike[str], root: str | os.PathLike[str] | None) -> Path:
    """Resolve ``path``; with a root, refuse anything that escapes it (traversal, symlinks)."""
    if root is None:
        return Path(path).resolve()
    base = Path(root).resolve()
    candidate = Path(path)
    target = (candidate if candidate.is_absolute() else base / candidate).resolve()
    if not target.is_relative_to(base):
        raise UnsafeArtifactError(f"artifact path {str(path)!r} is outside the allowed root")
    return target


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write bytes via a temp file in the same directory, fsync, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            sync_fd(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def sync_fd(fd: int) -> None:
    """Flush a file descriptor to stable storage (the one place durable writes sync)."""
    os.fsync(fd)


def fsync_dir(directory: Path) -> None:
    """Flush a directory entry so a completed rename survives a crash (best effort)."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        sync_fd(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
