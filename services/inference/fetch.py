"""Load artifacts through the storage port when this replica has no local copy yet.

Training uploads each artifact under its path relative to the artifact root; a replica that
is asked to load ``<root>/<model>/<job>/model.npz`` and lacks the file downloads that object
first. The loader still checks the registered checksum, so a corrupt download is refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.storage.base import ObjectNotFoundError, ObjectStore
from shared.storage.bootstrap import ARTIFACTS_BUCKET

Loader = Callable[..., Any]


def fetching_loader(load: Loader, storage: Callable[[], ObjectStore]) -> Loader:
    """Wrap ``load(path, sha256, root=...)`` so a missing file is fetched from storage first."""

    def loader(path: Path, expected_sha256: str | None = None, *, root: Path) -> Any:
        fetch_missing(storage(), Path(path), Path(root))
        return load(path, expected_sha256, root=root)

    return loader


def fetch_missing(storage: ObjectStore, path: Path, root: Path) -> bool:
    """Download the object of an artifact path that is not on disk; return whether it did."""
    if path.exists():
        return False
    try:
        key = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return False
    try:
        data = storage.get(ARTIFACTS_BUCKET, key)
    except ObjectNotFoundError:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so a concurrent loader never reads half a file.
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    partial.write_bytes(data)
    os.replace(partial, path)
    return True
