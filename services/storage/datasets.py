"""Dataset versions: a set of uploaded objects committed as an immutable, content-addressed version.

A version's id is the SHA-256 of its sorted manifest (key, SHA-256 and size of each object), so
committing the same content again returns the same version. Committing pins every object of
the version: it can no longer be overwritten or deleted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from services.storage.keys import object_key
from services.storage.objects import ObjectService, bucket_of
from services.storage.store import DatasetVersionRow, ObjectRepository, PinRow
from shared.db import session_scope
from shared.errors import NotFoundError, ValidationError
from shared.events.base import EventBus
from shared.events.schema import EventType, make_event, publish_event

DATASETS_NAMESPACE = "datasets"
SOURCE = "storage"


@dataclass(frozen=True)
class DatasetVersion:
    """One committed dataset version."""

    dataset: str
    version: str
    namespace: str
    manifest: list[dict]
    size: int
    created_at: datetime


def manifest_id(manifest: list[dict]) -> str:
    """Return the content address of a manifest: SHA-256 of its canonical JSON."""
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _entity(row: DatasetVersionRow) -> DatasetVersion:
    return DatasetVersion(
        row.dataset, row.version, row.namespace, list(row.manifest), row.size, row.created_at
    )


class Datasets:
    """Commit and read dataset versions; a new version is announced on the bus."""

    def __init__(self, objects: ObjectService, bus: Callable[[], EventBus]) -> None:
        self.objects = objects
        self.bus = bus

    def commit(self, dataset: str, keys: list[str]) -> tuple[DatasetVersion, bool]:
        """Commit the live objects named by ``keys``; return the version and whether it is new."""
        bucket_of(DATASETS_NAMESPACE)
        if not keys:
            raise ValidationError("a dataset version needs at least one object")
        checked = sorted({object_key(k) for k in keys})
        with session_scope(self.objects.session_factory) as session:
            repo = ObjectRepository(session)
            rows = [repo.live(DATASETS_NAMESPACE, key) for key in checked]
            manifest = [{"key": r.key, "sha256": r.sha256, "size": r.size} for r in rows]
            version = manifest_id(manifest)
            existing = session.scalars(
                select(DatasetVersionRow).where(
                    DatasetVersionRow.dataset == dataset, DatasetVersionRow.version == version
                )
            ).first()
            if existing is not None:
                return _entity(existing), False
            row = DatasetVersionRow(
                dataset=dataset,
                version=version,
                namespace=DATASETS_NAMESPACE,
                manifest=manifest,
                size=sum(r.size for r in rows),
                created_at=self.objects.now(),
            )
            session.add(row)
            session.flush()
            session.add_all(
                PinRow(namespace=DATASETS_NAMESPACE, key=k, version_id=row.id) for k in checked
            )
            committed = _entity(row)
        event = make_event(
            EventType.DATASET_VERSION_COMMITTED,
            {
                "dataset": committed.dataset,
                "version": committed.version,
                "namespace": committed.namespace,
                "objects": len(committed.manifest),
                "size": committed.size,
            },
            source=SOURCE,
        )
        publish_event(self.bus(), event)
        return committed, True

    def get(self, dataset: str, version: str) -> DatasetVersion:
        """Return one committed version or raise NotFoundError."""
        with session_scope(self.objects.session_factory) as session:
            row = session.scalars(
                select(DatasetVersionRow).where(
                    DatasetVersionRow.dataset == dataset, DatasetVersionRow.version == version
                )
            ).first()
            if row is None:
                raise NotFoundError(f"dataset {dataset!r} has no version {version}")
            return _entity(row)

    def list(self, dataset: str) -> list[DatasetVersion]:
        """Return the versions of a dataset, oldest first."""
        with session_scope(self.objects.session_factory) as session:
            stmt = select(DatasetVersionRow).where(DatasetVersionRow.dataset == dataset)
            return [_entity(r) for r in session.scalars(stmt.order_by(DatasetVersionRow.id))]
