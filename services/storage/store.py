"""Persistence of the storage service: object rows, upload sessions, dataset versions.

Rows are the truth about which objects exist: an object is readable only while a ``live`` row
names it, and garbage collection deletes only objects no live or recent row references.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from shared.db import UTCDateTime
from shared.errors import ConflictError, NotFoundError

# Object row states: written first as pending, live once the object is stored, replaced by a
# later upload of the same key, deleted by a client (tombstone), collected by garbage collection.
PENDING, LIVE, REPLACED, DELETED, FAILED, COLLECTED = (
    "pending",
    "live",
    "replaced",
    "deleted",
    "failed",
    "collected",
)
# Upload session states.
OPEN, COMPLETED, ABORTED = "open", "completed", "aborted"


class Base(DeclarativeBase):
    """Declarative base of the storage service: its metadata holds only this service's tables."""


class ObjectRow(Base):
    """One upload of an object into a namespace."""

    __tablename__ = "storage_objects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    namespace: Mapped[str] = mapped_column(String(32), nullable=False)
    key: Mapped[str] = mapped_column(String(1024), nullable=False)
    bucket: Mapped[str] = mapped_column(String(63), nullable=False)
    object_name: Mapped[str] = mapped_column(String(1024), nullable=False, index=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content_type: Mapped[str] = mapped_column(String(128), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    def to_entity(self) -> StoredObject:
        """Return the plain view of this row."""
        return StoredObject(
            self.id,
            self.namespace,
            self.key,
            self.bucket,
            self.object_name,
            self.size,
            self.sha256,
            self.content_type,
            self.state,
            self.created_at,
            self.updated_at,
        )


@dataclass(frozen=True)
class StoredObject:
    """An object row as the rest of the service sees it, detached from the session."""

    id: int
    namespace: str
    key: str
    bucket: str
    object_name: str
    size: int
    sha256: str
    content_type: str
    state: str
    created_at: datetime
    updated_at: datetime


class UploadSessionRow(Base):
    """A resumable multipart upload: its target and state; parts are rows of their own."""

    __tablename__ = "storage_upload_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(32), nullable=False)
    key: Mapped[str] = mapped_column(String(1024), nullable=False)
    bucket: Mapped[str] = mapped_column(String(63), nullable=False)
    content_type: Mapped[str] = mapped_column(String(128), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    object_id: Mapped[int | None] = mapped_column(ForeignKey("storage_objects.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class UploadPartRow(Base):
    """One received part of an upload session (a re-sent part replaces it)."""

    __tablename__ = "storage_upload_parts"

    session_id: Mapped[str] = mapped_column(
        ForeignKey("storage_upload_sessions.id"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_name: Mapped[str] = mapped_column(String(1024), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)


class DatasetVersionRow(Base):
    """An immutable dataset version: the sorted manifest its id is the SHA-256 of."""

    __tablename__ = "storage_dataset_versions"
    __table_args__ = (UniqueConstraint("dataset", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[str] = mapped_column(String(64), nullable=False)
    namespace: Mapped[str] = mapped_column(String(32), nullable=False)
    manifest: Mapped[list[dict]] = mapped_column(JSON, nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class PinRow(Base):
    """An object key a committed dataset version holds: it may not change while pinned."""

    __tablename__ = "storage_pins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    namespace: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    key: Mapped[str] = mapped_column(String(1024), nullable=False)
    version_id: Mapped[int] = mapped_column(ForeignKey("storage_dataset_versions.id"))


class ObjectRepository:
    """Read and write object rows within one session (the caller owns the transaction)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def live(self, namespace: str, key: str) -> ObjectRow:
        """Return the live row of a key or raise NotFoundError."""
        stmt = select(ObjectRow).where(
            ObjectRow.namespace == namespace, ObjectRow.key == key, ObjectRow.state == LIVE
        )
        row = self.session.scalars(stmt.order_by(ObjectRow.id.desc())).first()
        if row is None:
            raise NotFoundError(f"object {namespace}/{key} not found")
        return row

    def listing(self, namespace: str, prefix: str) -> list[ObjectRow]:
        """Return the live rows of a namespace whose key starts with ``prefix``, by key."""
        stmt = select(ObjectRow).where(ObjectRow.namespace == namespace, ObjectRow.state == LIVE)
        rows = self.session.scalars(stmt).all()
        return sorted((r for r in rows if r.key.startswith(prefix)), key=lambda r: r.key)

    def check_unpinned(self, namespace: str, key: str) -> None:
        """Raise ConflictError when a committed dataset version holds this key."""
        stmt = select(PinRow.id).where(PinRow.namespace == namespace, PinRow.key == key)
        if self.session.scalars(stmt).first() is not None:
            raise ConflictError(
                f"object {namespace}/{key} belongs to a committed dataset version",
                details={"namespace": namespace, "key": key},
            )

    def referenced(self, bucket: str, object_name: str, since: datetime) -> bool:
        """Return whether a live row, or a pending row newer than ``since``, names the object."""
        stmt = select(ObjectRow).where(
            ObjectRow.bucket == bucket, ObjectRow.object_name == object_name
        )
        return any(
            row.state == LIVE or (row.state == PENDING and row.created_at > since)
            for row in self.session.scalars(stmt)
        )

    def ping(self) -> None:
        """Read the object table, so readiness sees whether the database and schema answer."""
        self.session.execute(select(ObjectRow.id).limit(1))
