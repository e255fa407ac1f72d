"""Copy a finished job's model artifact and checkpoints from local disk to object storage.

Keys mirror the job directory relative to the artifact root (``<model>/<job>/...``), so any
replica can fetch an artifact by the path its ``file://`` URI names (see
``services/inference/fetch.py``).
"""

from __future__ import annotations

from pathlib import Path

from shared.storage.base import ObjectStore
from shared.storage.bootstrap import ARTIFACTS_BUCKET, CHECKPOINTS_BUCKET


def object_key(path: Path, root: Path) -> str:
    """Return the object name of a file under the artifact root (POSIX separators)."""
    return path.resolve().relative_to(root.resolve()).as_posix()


def upload_job_outputs(
    storage: ObjectStore | None, root: Path, artifact: Path, checkpoints: Path
) -> list[str]:
    """Upload the artifact and every checkpoint file; return the s3:// URIs written."""
    if storage is None:
        return []
    written = [_upload(storage, ARTIFACTS_BUCKET, artifact, root)]
    if checkpoints.is_dir():
        for path in sorted(p for p in checkpoints.rglob("*") if p.is_file()):
            written.append(_upload(storage, CHECKPOINTS_BUCKET, path, root))
    return written


def _upload(storage: ObjectStore, bucket: str, path: Path, root: Path) -> str:
    key = object_key(path, root)
    storage.put(bucket, key, path.read_bytes(), content_type="application/octet-stream")
    return f"s3://{bucket}/{key}"
