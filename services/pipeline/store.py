"""Persistence of the pipeline service: definitions, runs, step executions and lineage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from shared.db import UTCDateTime
from shared.errors import NotFoundError

RUN_STATUSES = ("queued", "running", "succeeded", "failed")
STEP_STATUSES = ("running", "succeeded", "failed")


class Base(DeclarativeBase):
    """Declarative base of the pipeline service: only its own ``pipeline_*`` tables."""


class DefinitionRow(Base):
    """One version of a pipeline definition; versions are immutable."""

    __tablename__ = "pipeline_definitions"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_pipeline_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    trigger_dataset: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    order: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class RunRow(Base):
    """One run of a pinned pipeline version on one dataset version."""

    __tablename__ = "pipeline_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    pipeline: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    trigger: Mapped[str] = mapped_column(String(16), nullable=False)
    # Set for event-triggered runs: one run per pipeline version and dataset version.
    trigger_key: Mapped[str | None] = mapped_column(String(400), unique=True, nullable=True)
    dataset: Mapped[str] = mapped_column(String(128), nullable=False)
    dataset_version: Mapped[str] = mapped_column(String(64), nullable=False)
    # Seeds span 0..2**32 - 1 (what training takes), past a signed 32-bit column's range.
    seed: Mapped[int] = mapped_column(BigInteger, nullable=False)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class StepRunRow(Base):
    """The one execution record of a step in a run (unique per run and step)."""

    __tablename__ = "pipeline_step_runs"
    __table_args__ = (UniqueConstraint("run_id", "step", name="uq_pipeline_step_run"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("pipeline_runs.id"), nullable=False)
    step: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    output: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # What an unfinished step recorded to resume from (a submitted job's id): its later
    # attempts, and a worker taking it over, continue from there instead of starting again.
    checkpoint: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LineageRow(Base):
    """One thing a run derived from its dataset version: a feature view or a model version."""

    __tablename__ = "pipeline_lineage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("pipeline_runs.id"), nullable=False)
    dataset: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    dataset_version: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)


@dataclass(frozen=True)
class Definition:
    """A pipeline version as the service uses it."""

    name: str
    version: int
    digest: str
    trigger_dataset: str | None
    steps: list[dict[str, Any]]
    order: list[str]
    created_at: datetime

    def step(self, name: str) -> dict[str, Any]:
        """Return one step's declaration."""
        return next(step for step in self.steps if step["name"] == name)


def to_definition(row: DefinitionRow) -> Definition:
    """Return the entity of a definition row."""
    return Definition(
        row.name,
        row.version,
        row.digest,
        row.trigger_dataset,
        [dict(step) for step in row.steps],
        list(row.order),
        row.created_at,
    )


def latest_definition(session: Session, name: str) -> DefinitionRow | None:
    """Return the newest version of a pipeline, or None."""
    stmt = select(DefinitionRow).where(DefinitionRow.name == name)
    return session.scalars(stmt.order_by(DefinitionRow.version.desc()).limit(1)).first()


def get_definition(session: Session, name: str, version: int | None = None) -> DefinitionRow:
    """Return a pipeline version (the newest without one) or raise NotFoundError."""
    if version is None:
        row = latest_definition(session, name)
    else:
        stmt = select(DefinitionRow).where(
            DefinitionRow.name == name, DefinitionRow.version == version
        )
        row = session.scalars(stmt).first()
    if row is None:
        suffix = "" if version is None else f" version {version}"
        raise NotFoundError(f"pipeline {name!r}{suffix} not found")
    return row


def get_run(session: Session, run_id: str) -> RunRow:
    """Return a run or raise NotFoundError."""
    row = session.get(RunRow, run_id)
    if row is None:
        raise NotFoundError(f"run {run_id!r} not found")
    return row


def step_rows(session: Session, run_id: str) -> dict[str, StepRunRow]:
    """Return a run's step executions by step name."""
    stmt = select(StepRunRow).where(StepRunRow.run_id == run_id)
    return {row.step: row for row in session.scalars(stmt)}
