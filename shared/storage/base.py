"""Object-store port: buckets of named blobs, uploaded in parts and verified by SHA-256."""

from __future__ import annotations

import abc
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from shared.errors import NotFoundError, ServiceUnavailableError, SynapseError, ValidationError

MIN_PART_SIZE = 5 * 1024 * 1024  # S3 refuses smaller parts (except the last one)
MAX_PART_SIZE = 5 * 1024 * 1024 * 1024
DEFAULT_PART_SIZE = 8 * 1024 * 1024
SHA256_METADATA = "sha256"  # user metadata key (x-amz-meta-sha256) holding our checksum
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_CHUNK = 1024 * 1024


class StorageError(ServiceUnavailableError):
    """Raised when the object store fails or cannot be reached."""

    code = "storage_unavailable"


class BucketNotFoundError(NotFoundError):
    """Raised when the named bucket does not exist."""

    code = "bucket_not_found"


class ObjectNotFoundError(NotFoundError):
    """Raised when no object has the given name."""

    code = "object_not_found"


class ChecksumMismatchError(SynapseError):
    """Raised when downloaded bytes do not hash to the SHA-256 recorded at upload."""

    status_code = 502
    code = "checksum_mismatch"


@dataclass(frozen=True)
class ObjectInfo:
    """What the store knows about one object."""

    bucket: str
    name: str
    size: int
    etag: str
    sha256: str | None
    content_type: str = "application/octet-stream"
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def parts(self) -> int:
        """Return how many parts the object was uploaded in (1 for a single PUT)."""
        _, _, count = self.etag.partition("-")
        return int(count) if count.isdigit() else 1


def validate_bucket(name: str) -> str:
    """Return a bucket name that S3 accepts, else raise ValidationError."""
    if not isinstance(name, str) or not _BUCKET_RE.match(name) or ".." in name:
        raise ValidationError(
            f"invalid bucket name {name!r}: 3-63 of a-z 0-9 . - starting and ending alphanumeric"
        )
    return name


def validate_object_name(name: str) -> str:
    """Return an object name without empty, '.' or '..' segments, else raise ValidationError."""
    if not isinstance(name, str) or not name or len(name.encode("utf-8")) > 1024:
        raise ValidationError("object name must be 1-1024 bytes of UTF-8")
    segments = name.split("/")
    if any(s in ("", ".", "..") for s in segments) or any(ord(c) < 32 for c in name):
        raise ValidationError(f"invalid object name {name!r}")
    return name


def validate_part_size(part_size: int) -> int:
    """Return a multipart part size within S3's limits, else raise ValidationError."""
    if not isinstance(part_size, int) or not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
        raise ValidationError(
            f"part_size must be {MIN_PART_SIZE}-{MAX_PART_SIZE} bytes, got {part_size!r}"
        )
    return part_size


def as_stream(data: bytes | bytearray | BinaryIO) -> BinaryIO:
    """Return a seekable binary stream over bytes or a seekable file object."""
    if isinstance(data, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(data))
    if not hasattr(data, "read") or not data.seekable():
        raise ValidationError("data must be bytes or a seekable binary file")
    return data


def sha256_and_length(stream: BinaryIO) -> tuple[str, int]:
    """Hash a stream from its current position to the end, then rewind it there."""
    start = stream.tell()
    digest, length = hashlib.sha256(), 0
    for chunk in iter(lambda: stream.read(_CHUNK), b""):
        digest.update(chunk)
        length += len(chunk)
    stream.seek(start)
    return digest.hexdigest(), length


def verify_checksum(info: ObjectInfo, data: bytes) -> bytes:
    """Return data when it hashes to the object's recorded SHA-256, else raise."""
    actual = hashlib.sha256(data).hexdigest()
    if info.sha256 is not None and actual != info.sha256:
        raise ChecksumMismatchError(
            f"object {info.bucket}/{info.name} is corrupt: sha256 {actual} != {info.sha256}",
            details={"bucket": info.bucket, "name": info.name},
        )
    return data


def iter_parts(stream: BinaryIO, part_size: int) -> Iterator[bytes]:
    """Yield consecutive parts of part_size bytes (the last may be shorter)."""
    while chunk := stream.read(part_size):
        yield chunk


class ObjectStore(abc.ABC):
    """Buckets of objects; every upload records its SHA-256, every download checks it."""

    @abc.abstractmethod
    def bucket_exists(self, bucket: str) -> bool:
        """Return whether the bucket exists."""

    @abc.abstractmethod
    def ensure_bucket(self, bucket: str) -> bool:
        """Create the bucket unless it exists; return whether it was created."""

    @abc.abstractmethod
    def remove_bucket(self, bucket: str) -> None:
        """Delete an empty bucket."""

    @abc.abstractmethod
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
        """Upload an object (in parts of part_size when larger) and return its info."""

    @abc.abstractmethod
    def stat(self, bucket: str, name: str) -> ObjectInfo:
        """Return an object's info, or raise ObjectNotFoundError."""

    @abc.abstractmethod
    def get(self, bucket: str, name: str, *, verify: bool = True) -> bytes:
        """Return an object's bytes, checked against its recorded SHA-256 when verify."""

    @abc.abstractmethod
    def list(self, bucket: str, prefix: str = "") -> list[ObjectInfo]:
        """Return the objects whose names start with prefix, sorted by name."""

    @abc.abstractmethod
    def delete(self, bucket: str, name: str) -> None:
        """Delete an object; deleting a missing object is a no-op."""
