"""Resumable multipart uploads: a session in the database, parts as objects, one completion.

A session outlives the client's connection: its state and received parts are rows, so a client
that reconnects asks for the session and sends only the parts it lacks. Completion joins the
parts in part-number order, checks the whole object's SHA-256 and stores it like a single PUT;
completing again returns the same object.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.storage import store
from services.storage.keys import RESERVED_SEGMENT, object_key
from services.storage.objects import ObjectService, bucket_of, check_sha256
from services.storage.store import ObjectRepository, ObjectRow, UploadPartRow, UploadSessionRow
from shared.db import session_scope
from shared.errors import BadRequestError, ConflictError, NotFoundError, PayloadTooLargeError


def part_name(session_id: str, number: int) -> str:
    """Return the object name of one part of a session."""
    return f"{RESERVED_SEGMENT}/uploads/{session_id}/{number:05d}"


def session_view(row: UploadSessionRow, parts: list[UploadPartRow]) -> dict:
    """Return the API view of a session and its received parts."""
    return {
        "id": row.id,
        "namespace": row.namespace,
        "key": row.key,
        "content_type": row.content_type,
        "state": row.state,
        "parts": [{"number": p.number, "size": p.size, "sha256": p.sha256} for p in parts],
    }


class UploadSessions:
    """Use cases of upload sessions on top of the object use cases."""

    def __init__(self, objects: ObjectService) -> None:
        self.objects = objects
        self.settings = objects.settings
        self.session_factory = objects.session_factory

    def create(self, namespace: str, raw_key: str, content_type: str | None) -> dict:
        """Open a session for one object; the key and media type are checked up front."""
        bucket = bucket_of(namespace)
        key = object_key(raw_key)
        media = self.objects.check_content_type(content_type)
        now = self.objects.now()
        with session_scope(self.session_factory) as session:
            ObjectRepository(session).check_unpinned(namespace, key)
            row = UploadSessionRow(
                id=uuid.uuid4().hex,
                namespace=namespace,
                key=key,
                bucket=bucket,
                content_type=media,
                state=store.OPEN,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            return session_view(row, [])

    def get(self, session_id: str) -> dict:
        """Return a session and the parts it has received."""
        with session_scope(self.session_factory) as session:
            row = self._row(session, session_id)
            return session_view(row, self._parts(session, session_id))

    def put_part(self, session_id: str, number: int, data: bytes, sha256: str | None) -> dict:
        """Store one part after its size and SHA-256 are checked; a re-sent part replaces it."""
        if not 1 <= number <= self.settings.max_parts:
            raise BadRequestError(f"part number must be 1-{self.settings.max_parts}")
        if sha256 is None:
            raise BadRequestError("every part needs its SHA-256 in the X-Content-SHA256 header")
        if len(data) > self.settings.max_part_size:
            raise PayloadTooLargeError(
                f"part of {len(data)} bytes exceeds the {self.settings.max_part_size}-byte limit",
                details={"size": len(data), "limit": self.settings.max_part_size},
            )
        digest = check_sha256(data, sha256)
        with session_scope(self.session_factory) as session:
            row = self._open(session, session_id)
            bucket = row.bucket
        name = part_name(session_id, number)
        self.objects.storage().put(bucket, name, data)
        with session_scope(self.session_factory) as session:
            part = session.get(UploadPartRow, (session_id, number))
            if part is None:
                part = UploadPartRow(session_id=session_id, number=number)
                session.add(part)
            part.object_name, part.size, part.sha256 = name, len(data), digest
            self._row(session, session_id).updated_at = self.objects.now()
        return {"number": number, "size": len(data), "sha256": digest}

    def complete(self, session_id: str, parts: int, sha256: str) -> dict:
        """Join parts 1..``parts`` into the object once its SHA-256 matches; idempotent."""
        with session_scope(self.session_factory) as session:
            row = self._row(session, session_id)
            if row.state == store.COMPLETED and row.object_id is not None:
                done = session.get_one(ObjectRow, row.object_id)
                if done.sha256 != sha256.lower():
                    raise ConflictError(
                        f"upload session {session_id} completed an object with another sha256"
                    )
                return {"session": row.id, "object": done.to_entity(), "created": False}
            if row.state != store.OPEN:
                raise ConflictError(f"upload session {session_id} was {row.state}")
            received = {p.number: p for p in self._parts(session, session_id)}
            namespace, key, bucket, media = row.namespace, row.key, row.bucket, row.content_type
        missing = [n for n in range(1, parts + 1) if n not in received]
        if missing:
            raise ConflictError(
                f"upload session {session_id} lacks parts {missing[:20]}",
                details={"missing": missing},
            )
        total = sum(received[n].size for n in range(1, parts + 1))
        if total > self.settings.max_upload_size:
            raise PayloadTooLargeError(
                f"object of {total} bytes exceeds the {self.settings.max_upload_size}-byte limit"
            )
        storage = self.objects.storage()
        data = b"".join(storage.get(bucket, received[n].object_name) for n in range(1, parts + 1))
        digest = check_sha256(data, sha256)
        stored = self.objects.store(namespace, bucket, key, data, digest, media)
        with session_scope(self.session_factory) as session:
            row = self._row(session, session_id)
            row.state, row.object_id, row.updated_at = (
                store.COMPLETED,
                stored.id,
                self.objects.now(),
            )
        return {"session": session_id, "object": stored, "created": True}

    def abort(self, session_id: str) -> None:
        """Abort an open session; its parts are left to garbage collection."""
        with session_scope(self.session_factory) as session:
            row = self._row(session, session_id)
            if row.state == store.COMPLETED:
                raise ConflictError(f"upload session {session_id} is already completed")
            row.state, row.updated_at = store.ABORTED, self.objects.now()

    def collect(self, horizon_seconds: int) -> list[str]:
        """Delete the parts of finished sessions older than the grace period."""
        horizon = self.objects.now() - timedelta(seconds=horizon_seconds)
        deleted: list[str] = []
        with session_scope(self.session_factory) as session:
            stmt = select(UploadSessionRow).where(
                UploadSessionRow.state.in_((store.ABORTED, store.COMPLETED)),
                UploadSessionRow.updated_at <= horizon,
            )
            for row in session.scalars(stmt):
                for part in self._parts(session, row.id):
                    self.objects.storage().delete(row.bucket, part.object_name)
                    deleted.append(f"{row.bucket}/{part.object_name}")
                    session.delete(part)
        return deleted

    @staticmethod
    def _parts(session: Session, session_id: str) -> list[UploadPartRow]:
        stmt = select(UploadPartRow).where(UploadPartRow.session_id == session_id)
        return list(session.scalars(stmt.order_by(UploadPartRow.number)))

    @staticmethod
    def _row(session: Session, session_id: str) -> UploadSessionRow:
        row = session.get(UploadSessionRow, session_id)
        if row is None:
            raise NotFoundError(f"upload session {session_id} not found")
        return row

    def _open(self, session: Session, session_id: str) -> UploadSessionRow:
        row = self._row(session, session_id)
        if row.state != store.OPEN:
            raise ConflictError(f"upload session {session_id} is {row.state}")
        return row
