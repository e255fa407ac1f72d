"""Objects in namespaces: upload, read, tombstone, list, and garbage-collect unreferenced ones.

Write order keeps garbage collection safe: a ``pending`` row is committed before the object is
written and turns ``live`` after, and collection spares any object a live row or a pending
row younger than the grace period names, so an upload in flight never loses its object.

An object's bytes sit in its bucket under its key, so two writers of one key take turns (the
platform lock port, one lock per key) from writing the bytes to committing the live row:
otherwise one writer's row could go live over the other writer's bytes.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.storage import store
from services.storage.config import Settings
from services.storage.keys import key_prefix, object_key
from services.storage.store import ObjectRepository, ObjectRow, StoredObject
from shared.backends import get_locks
from shared.db import session_scope
from shared.errors import (
    NotFoundError,
    PayloadTooLargeError,
    SynapseError,
    UnsupportedMediaTypeError,
    ValidationError,
)
from shared.storage.base import ChecksumMismatchError, ObjectStore
from shared.storage.bootstrap import ARTIFACTS_BUCKET, CHECKPOINTS_BUCKET, DATASETS_BUCKET
from shared.utils.distributed import (
    DistributedLock,
    LockBackendUnavailableError,
    LockTimeoutError,
)
from shared.utils.timeutils import to_utc

Clock = Callable[[], datetime]
NAMESPACES: dict[str, str] = {
    "artifacts": ARTIFACTS_BUCKET,
    "datasets": DATASETS_BUCKET,
    "checkpoints": CHECKPOINTS_BUCKET,
}
# Lease of a key's write lock: outlives the largest upload, so only a dead holder loses it.
WRITE_LOCK_TTL = 300.0
logger = logging.getLogger(__name__)


class ChecksumRefusedError(ValidationError):
    """Raised when uploaded bytes do not hash to the SHA-256 the client announced."""

    code = "checksum_mismatch"


def bucket_of(namespace: str) -> str:
    """Return the bucket of a namespace, or raise NotFoundError."""
    try:
        return NAMESPACES[namespace]
    except KeyError:
        raise NotFoundError(
            f"unknown namespace {namespace!r}; use one of {', '.join(NAMESPACES)}"
        ) from None


def check_sha256(data: bytes, expected: str | None) -> str:
    """Return the data's SHA-256; raise when the client announced another one."""
    actual = hashlib.sha256(data).hexdigest()
    if expected is not None and expected.strip().lower() != actual:
        raise ChecksumRefusedError(
            f"the body hashes to sha256 {actual}, not the announced {expected}",
            details={"expected": expected, "actual": actual},
        )
    return actual


@dataclass(frozen=True)
class Download:
    """An object's row and its bytes, checked against the recorded SHA-256."""

    info: StoredObject
    data: bytes


class ObjectService:
    """Use cases on single objects, each in its own transactions."""

    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        storage: Callable[[], ObjectStore],
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.storage = storage
        self._clock = clock

    def now(self) -> datetime:
        """Return the injected clock's time in UTC."""
        return to_utc(self._clock())

    def check_content_type(self, content_type: str | None) -> str:
        """Return the media type without parameters when the allow-list has it, else 415."""
        media = (content_type or "application/octet-stream").split(";")[0].strip().lower()
        if media not in self.settings.content_types:
            raise UnsupportedMediaTypeError(
                f"content type {media!r} is not accepted; use one of "
                + ", ".join(self.settings.content_types),
                details={"content_type": media},
            )
        return media

    def put(
        self,
        namespace: str,
        raw_key: str,
        data: bytes,
        *,
        content_type: str | None,
        expected_sha256: str | None = None,
    ) -> StoredObject:
        """Store an object after every check passed; nothing is written when one fails."""
        bucket = bucket_of(namespace)
        key = object_key(raw_key)
        media = self.check_content_type(content_type)
        if len(data) > self.settings.max_object_size:
            raise PayloadTooLargeError(
                f"object of {len(data)} bytes exceeds the {self.settings.max_object_size}-byte "
                "limit of a single upload; use an upload session",
                details={"size": len(data), "limit": self.settings.max_object_size},
            )
        sha256 = check_sha256(data, expected_sha256)
        return self.store(namespace, bucket, key, data, sha256, media)

    def store(
        self, namespace: str, bucket: str, key: str, data: bytes, sha256: str, media: str
    ) -> StoredObject:
        """Write a checked object: pending row, then the object, then the row goes live."""
        now = self.now()
        with session_scope(self.session_factory) as session:
            ObjectRepository(session).check_unpinned(namespace, key)
            row = ObjectRow(
                namespace=namespace,
                key=key,
                bucket=bucket,
                object_name=key,
                size=len(data),
                sha256=sha256,
                content_type=media,
                state=store.PENDING,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            row_id = row.id
        try:
            with self._turn_of(namespace, key):
                self.storage().put(bucket, key, data, content_type=media)
                return self._go_live(namespace, key, row_id)
        except SynapseError:
            self._fail_pending(row_id)
            raise

    def _go_live(self, namespace: str, key: str, row_id: int) -> StoredObject:
        """Turn a written object's row live and the key's previous live row replaced."""
        with session_scope(self.session_factory) as session:
            previous = select(ObjectRow).where(
                ObjectRow.namespace == namespace,
                ObjectRow.key == key,
                ObjectRow.state == store.LIVE,
            )
            for old in session.scalars(previous):
                old.state, old.updated_at = store.REPLACED, self.now()
            live = session.get_one(ObjectRow, row_id)
            live.state, live.updated_at = store.LIVE, self.now()
            return live.to_entity()

    @contextmanager
    def _turn_of(self, namespace: str, key: str) -> Iterator[None]:
        """Hold the key's write lock for the block; 503 when another write keeps it too long.

        A lease that lapsed during a very long write is not an error: the write is done.
        """
        lock = get_locks()(f"storage:object:{namespace}/{key}", ttl=WRITE_LOCK_TTL)
        if not lock.acquire(timeout=self.settings.write_lock_wait_seconds):
            raise LockTimeoutError(f"another write of {namespace}/{key} is still running")
        try:
            yield
        finally:
            _let_go(lock)

    def stat(self, namespace: str, raw_key: str) -> StoredObject:
        """Return the live row of an object."""
        bucket_of(namespace)
        key = object_key(raw_key)
        with session_scope(self.session_factory) as session:
            return ObjectRepository(session).live(namespace, key).to_entity()

    def get(self, namespace: str, raw_key: str) -> Download:
        """Return an object's bytes, refused when they do not hash to the recorded SHA-256."""
        info = self.stat(namespace, raw_key)
        data = self.storage().get(info.bucket, info.object_name)
        if hashlib.sha256(data).hexdigest() != info.sha256:
            raise ChecksumMismatchError(
                f"object {namespace}/{info.key} is corrupt",
                details={"namespace": namespace, "key": info.key},
            )
        return Download(info, data)

    def delete(self, namespace: str, raw_key: str) -> None:
        """Tombstone an object; garbage collection removes its bytes after the grace period."""
        bucket_of(namespace)
        key = object_key(raw_key)
        with session_scope(self.session_factory) as session:
            repo = ObjectRepository(session)
            repo.check_unpinned(namespace, key)
            row = repo.live(namespace, key)
            row.state, row.updated_at = store.DELETED, self.now()

    def list(self, namespace: str, raw_prefix: str) -> list[StoredObject]:
        """Return the live objects whose key starts with the prefix, sorted by key."""
        bucket_of(namespace)
        prefix = key_prefix(raw_prefix)
        with session_scope(self.session_factory) as session:
            return [row.to_entity() for row in ObjectRepository(session).listing(namespace, prefix)]

    def _fail_pending(self, row_id: int) -> None:
        """Mark a write's row failed, unless it went live before the error."""
        with session_scope(self.session_factory) as session:
            row = session.get_one(ObjectRow, row_id)
            if row.state == store.PENDING:
                row.state, row.updated_at = store.FAILED, self.now()


def collect_garbage(service: ObjectService) -> list[str]:
    """Delete objects no live or recent row references; return the ``bucket/name``s deleted."""
    now = service.now()
    horizon = now - timedelta(seconds=service.settings.gc_grace_seconds)
    deleted: list[str] = []
    with session_scope(service.session_factory) as session:
        stmt = select(ObjectRow).where(
            ObjectRow.state.in_((store.DELETED, store.FAILED, store.PENDING, store.REPLACED)),
            ObjectRow.updated_at <= horizon,
        )
        candidates = [row.to_entity() for row in session.scalars(stmt)]
    for row in candidates:
        with session_scope(service.session_factory) as session:
            repo = ObjectRepository(session)
            target = session.get_one(ObjectRow, row.id)
            if target.state != row.state or target.updated_at != row.updated_at:
                continue
            if not repo.referenced(row.bucket, row.object_name, horizon):
                service.storage().delete(row.bucket, row.object_name)
                deleted.append(f"{row.bucket}/{row.object_name}")
            target.state, target.updated_at = store.COLLECTED, now
    return deleted


def _let_go(lock: DistributedLock) -> None:
    """Release a key's lock still held; one the backend cannot take back lapses with its lease.

    The write it guarded is done either way, so an outage at this point is no error.
    """
    try:
        if lock.held():
            lock.release()
    except LockBackendUnavailableError:
        logger.warning("lock %s left to lapse: the lock backend is unavailable", lock.name)
