"""Persistence of metrics_db: ingested events, metric points, alert rules, alerts and silences."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Float, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from shared.db import UTCDateTime
from shared.errors import ConflictError, NotFoundError


class Base(DeclarativeBase):
    """Declarative base of the monitoring service: its metadata holds only its own tables."""


class EventRow(Base):
    """One bus event the ingestor stored, once per envelope id."""

    __tablename__ = "monitoring_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    type: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    source: Mapped[str] = mapped_column(String(32), nullable=False)
    model: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    trace_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    topic: Mapped[str] = mapped_column(String(249), nullable=False)
    partition: Mapped[int] = mapped_column(Integer, nullable=False)
    offset: Mapped[int] = mapped_column(Integer, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)


class MetricPointRow(Base):
    """One named metric value reported by a training job."""

    __tablename__ = "monitoring_metric_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    model: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class RuleRow(Base):
    """An alert rule: a metric of a model's predictions over a window against a threshold."""

    __tablename__ = "monitoring_rules"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), nullable=False)
    model: Mapped[str | None] = mapped_column(String(128), nullable=True)
    threshold: Mapped[float] = mapped_column(Float, nullable=False)
    window_seconds: Mapped[int] = mapped_column(Integer, nullable=False)


class AlertRow(Base):
    """One alert: raised when its rule's condition held, resolved when it cleared."""

    __tablename__ = "monitoring_alerts"
    __table_args__ = (UniqueConstraint("rule", "model", "fired_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    model: Mapped[str] = mapped_column(String(128), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    silenced: Mapped[bool] = mapped_column(nullable=False, default=False)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SilenceRow(Base):
    """A silence: alerts of a rule (and model, if given) raised within its time are muted."""

    __tablename__ = "monitoring_silences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(64), nullable=False)
    model: Mapped[str | None] = mapped_column(String(128), nullable=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    comment: Mapped[str] = mapped_column(String(500), nullable=False, default="")


@dataclass(frozen=True)
class Observation:
    """What the ingestor stores of one prediction or job event."""

    event_id: str
    type: str
    source: str
    model: str | None
    version: int | None
    status: int | None
    latency_ms: float | None
    trace_id: str | None
    topic: str
    partition: int
    offset: int
    occurred_at: datetime


def add_event(session: Session, observation: Observation) -> bool:
    """Store one event; return False when it was stored before."""
    stored = select(EventRow.id).where(EventRow.event_id == observation.event_id)
    if session.scalar(stored.limit(1)) is not None:
        return False
    session.add(EventRow(**observation.__dict__))
    session.flush()
    return True


def add_rule(session: Session, row: RuleRow) -> RuleRow:
    """Insert a rule; a name already taken raises ConflictError."""
    if session.get(RuleRow, row.name) is not None:
        raise ConflictError(f"rule {row.name!r} already exists")
    session.add(row)
    session.flush()
    return row


def get_rule(session: Session, name: str) -> RuleRow:
    """Return the rule called ``name`` or raise NotFoundError."""
    row = session.get(RuleRow, name)
    if row is None:
        raise NotFoundError(f"rule {name!r} not found")
    return row
