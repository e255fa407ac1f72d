"""In-memory object store with S3's semantics: bucket rules, multipart ETags, checksums."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import replace
from typing import BinaryIO

from typing_extensions import override

from shared.storage.base import (
    DEFAULT_PART_SIZE,
    SHA256_METADATA,
    BucketNotFoundError,
    ObjectInfo,
    ObjectNotFoundError,
    ObjectStore,
    StorageError,
    as_stream,
    iter_parts,
    sha256_and_length,
    validate_bucket,
    validate_object_name,
    validate_part_size,
    verify_checksum,
)


def s3_etag(parts: list[bytes]) -> str:
    """Return the ETag S3 gives an upload: MD5 for one part, MD5 of MD5s plus '-N' for more."""
    if len(parts) == 1:
        return hashlib.md5(parts[0], usedforsecurity=False).hexdigest()
    digests = b"".join(hashlib.md5(p, usedforsecurity=False).digest() for p in parts)
    return f"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(parts)}"


class InMemoryObjectStore(ObjectStore):
    """Thread-safe object store in a dict; useful in tests and single-process demos."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, dict[str, tuple[ObjectInfo, bytes]]] = {}
        self.uploaded_parts: list[tuple[str, str, int]] = []  # (bucket, name, part size)

    @override
    def bucket_exists(self, bucket: str) -> bool:
        with self._lock:
            return validate_bucket(bucket) in self._buckets

    @override
    def ensure_bucket(self, bucket: str) -> bool:
        validate_bucket(bucket)
        with self._lock:
            if bucket in self._buckets:
                return False
            self._buckets[bucket] = {}
            return True

    @override
    def remove_bucket(self, bucket: str) -> None:
        with self._lock:
            if self._objects(bucket):
                raise StorageError(f"bucket {bucket!r} is not empty", details={"bucket": bucket})
            del self._buckets[bucket]

    @override
    def put(
        self,
        bucket: str,
        name: str,
        data: bytes | BinaryIO,
        *,
        content_type: str = "application/octet-stream",
        part_size: int = DEFAULT_PART_SIZE,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        validate_object_name(name)
        validate_part_size(part_size)
        stream = as_stream(data)
        sha256, _ = sha256_and_length(stream)
        parts = list(iter_parts(stream, part_size)) or [b""]
        body = b"".join(parts)
        user_metadata = {k.lower(): v for k, v in (metadata or {}).items()}
        user_metadata[SHA256_METADATA] = sha256
        info = ObjectInfo(bucket, name, len(body), s3_etag(parts), sha256, content_type)
        info = replace(info, metadata=user_metadata)
        with self._lock:
            self._objects(bucket)[name] = (info, body)
            self.uploaded_parts.extend((bucket, name, len(p)) for p in parts)
        return info

    @override
    def stat(self, bucket: str, name: str) -> ObjectInfo:
        with self._lock:
            return self._entry(bucket, name)[0]

    @override
    def get(self, bucket: str, name: str, *, verify: bool = True) -> bytes:
        with self._lock:
            info, body = self._entry(bucket, name)
        return verify_checksum(info, body) if verify else body

    @override
    def list(self, bucket: str, prefix: str = "") -> list[ObjectInfo]:
        with self._lock:
            objects = self._objects(bucket)
            return [objects[n][0] for n in sorted(objects) if n.startswith(prefix)]

    @override
    def delete(self, bucket: str, name: str) -> None:
        validate_object_name(name)
        with self._lock:
            self._objects(bucket).pop(name, None)

    def corrupt(self, bucket: str, name: str, body: bytes) -> None:
        """Replace an object's bytes but keep its recorded checksum (bit rot, bad disk)."""
        with self._lock:
            info, _ = self._entry(bucket, name)
            self._objects(bucket)[name] = (info, body)

    def _objects(self, bucket: str) -> dict[str, tuple[ObjectInfo, bytes]]:
        validate_bucket(bucket)
        try:
            return self._buckets[bucket]
        except KeyError:
            raise BucketNotFoundError(
                f"bucket {bucket!r} does not exist", details={"bucket": bucket}
            ) from None

    def _entry(self, bucket: str, name: str) -> tuple[ObjectInfo, bytes]:
        validate_object_name(name)
        try:
            return self._objects(bucket)[name]
        except KeyError:
            raise ObjectNotFoundError(
                f"object {bucket}/{name} does not exist", details={"bucket": bucket, "name": name}
            ) from None
