"""Locate a registry version's artifact inside the artifact root and its expected checksum."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from shared.errors import UnsafeArtifactError, ValidationError
from shared.ml.files import resolve_inside


def artifact_path(uri: str, root: Path) -> Path:
    """Map an artifact URI (file:// URI or path) to a file inside ``root``."""
    parts = urlsplit(uri)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise UnsafeArtifactError(f"artifact host {parts.netloc!r} is not local")
        raw = unquote(parts.path)
    elif parts.scheme == "":
        raw = uri
    else:
        raise ValidationError(f"unsupported artifact URI scheme {parts.scheme!r}")
    if not raw:
        raise ValidationError("artifact URI has no path")
    return resolve_inside(raw, root)


def expected_sha256(record: dict[str, Any]) -> str | None:
    """Return the artifact checksum a registry version records, if any."""
    raw_params = record.get("params")
    params = raw_params if isinstance(raw_params, dict) else {}
    digest = record.get("artifact_sha256") or params.get("artifact_sha256")
    return digest if isinstance(digest, str) and digest else None
