"""SQLAlchemy rows and repository functions for training jobs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from shared.db import UTCDateTime
from shared.errors import NotFoundError

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"


class Base(DeclarativeBase):
    """Declarative base of the training service: its metadata holds only the job table."""


class TrainingJob(Base):
    """One training run of one model: its request, progress and outcome."""

    __tablename__ = "training_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    model_name: Mapped[str] = mapped_column(String(128), index=True)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    hyperparams: Mapped[dict] = mapped_column(JSON)
    dataset: Mapped[dict] = mapped_column(JSON)
    metrics: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    history: Mapped[list | None] = mapped_column(JSON, nullable=True)
    model_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    artifact_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    artifact_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    def to_entity(self) -> JobRecord:
        """Return the plain domain view of this row."""
        return JobRecord(
            id=self.id,
            model_name=self.model_name,
            status=self.status,
            hyperparams=dict(self.hyperparams),
            dataset=dict(self.dataset),
            metrics=dict(self.metrics) if self.metrics is not None else None,
            history=list(self.history) if self.history is not None else None,
            model_version=self.model_version,
            artifact_uri=self.artifact_uri,
            artifact_sha256=self.artifact_sha256,
            error=self.error,
            attempts=self.attempts,
            created_at=self.created_at,
            started_at=self.started_at,
            finished_at=self.finished_at,
        )


@dataclass(frozen=True)
class JobRecord:
    """A training job as the rest of the service sees it, detached from the session."""

    id: str
    model_name: str
    status: str
    hyperparams: dict
    dataset: dict
    metrics: dict | None
    history: list | None
    model_version: int | None
    artifact_uri: str | None
    artifact_sha256: str | None
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def create_job(
    session: Session, *, model_name: str, hyperparams: dict, dataset: dict, now: datetime
) -> TrainingJob:
    """Add a queued job row and return it (flushed, not committed)."""
    row = TrainingJob(
        id=str(uuid.uuid4()),
        model_name=model_name,
        status=QUEUED,
        hyperparams=hyperparams,
        dataset=dataset,
        attempts=0,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def get_job(session: Session, job_id: str) -> TrainingJob:
    """Return the job row or raise NotFoundError."""
    row = session.get(TrainingJob, job_id)
    if row is None:
        raise NotFoundError(f"training job {job_id!r} not found")
    return row


def list_jobs(session: Session, *, model_name: str | None = None) -> list[TrainingJob]:
    """Return jobs, oldest first, optionally for one model."""
    query = session.query(TrainingJob)
    if model_name is not None:
        query = query.filter(TrainingJob.model_name == model_name)
    return query.order_by(TrainingJob.created_at, TrainingJob.id).all()
