"""What monitoring consumes and publishes on the bus.

Consumes ``prediction.served`` (inference.predictions), ``training.job.completed`` /
``training.job.failed`` (training.jobs) and the registry's ``model.version.registered`` /
``model.version.promoted`` (models.versions) into metrics_db, files each under the correlation ID
it travelled with, evaluates the alert rules after every batch, and publishes ``alert.fired`` /
``alert.resolved`` on monitoring.alerts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from services.monitoring.alerts import evaluate
from services.monitoring.store import AlertRow, MetricPointRow, Observation, add_event
from shared.db import session_scope
from shared.errors import SynapseError, ValidationError
from shared.events.base import Event, EventBus
from shared.events.member import GroupMember
from shared.events.schema import EventEnvelope, EventType, make_event, publish_event, read_event
from shared.tracing import CORRELATION_HEADER

SOURCE = "monitoring"
TOPICS = ("inference.predictions", "training.jobs", "models.versions")
# Events that name their model and version as ``name`` and ``version``.
NAMED_VERSIONS = {
    EventType.PREDICTION_SERVED,
    EventType.MODEL_VERSION_REGISTERED,
    EventType.MODEL_VERSION_PROMOTED,
}
INGESTED = {
    *NAMED_VERSIONS,
    EventType.TRAINING_JOB_COMPLETED,
    EventType.TRAINING_JOB_FAILED,
}
Clock = Callable[[], datetime]
logger = logging.getLogger(__name__)


def trace_id_of(event: Event, envelope: EventEnvelope) -> str | None:
    """Return the correlation ID an event travelled with."""
    return event.headers.get(CORRELATION_HEADER) or envelope.correlation_id


def observation(event: Event, envelope: EventEnvelope) -> Observation:
    """Return what is stored of one consumed event."""
    data = envelope.data
    prediction = envelope.type == EventType.PREDICTION_SERVED
    named = envelope.type in NAMED_VERSIONS
    return Observation(
        event_id=envelope.id,
        type=envelope.type.value,
        source=envelope.source,
        model=data["name"] if named else data["model_name"],
        version=data.get("version") if named else data.get("model_version"),
        status=int(data["status"]) if prediction else None,
        latency_ms=float(data["latency_ms"]) if prediction else None,
        trace_id=trace_id_of(event, envelope),
        topic=event.topic,
        partition=event.partition,
        offset=event.offset,
        occurred_at=envelope.occurred_at,
    )


def metric_points(envelope: EventEnvelope) -> list[MetricPointRow]:
    """Return the numeric metrics a completed training job reported, one point each."""
    if envelope.type != EventType.TRAINING_JOB_COMPLETED:
        return []
    return [
        MetricPointRow(
            event_id=envelope.id,
            model=envelope.data["model_name"],
            name=str(name)[:128],
            value=float(value),
            occurred_at=envelope.occurred_at,
        )
        for name, value in sorted(envelope.data["metrics"].items())
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]


class Ingestor(GroupMember):
    """Read platform events into metrics_db and evaluate the alert rules after each batch."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        bus: Callable[[], EventBus],
        clock: Clock,
        *,
        group: str = "monitoring",
        batch_size: int = 200,
    ) -> None:
        super().__init__(bus, TOPICS, group, batch_size)
        self.session_factory = session_factory
        self.clock = clock

    def poll_once(self) -> int:
        """Ingest one batch and evaluate the rules; return how many new events it stored."""
        with self._lock:
            events = self.consumer.poll(max_records=self.batch_size)
            if not events:
                return 0
            stored = self._store_or_rewind(events)
            self.consumer.commit(events)
        self.evaluate()
        return stored

    def evaluate(self) -> list[AlertRow]:
        """Evaluate every rule at the clock's time and announce what changed."""
        announcements: list[tuple[EventType, dict[str, Any]]] = []
        with session_scope(self.session_factory) as session:
            changed = evaluate(
                session, self.clock(), lambda kind, data: announcements.append((kind, data))
            )
        for kind, data in announcements:
            self.announce(kind, data)
        return changed

    def drain(self, max_batches: int = 100) -> int:
        """Store what the bus holds until a poll finds nothing; return how many were new."""
        stored = 0
        for _ in range(max_batches):
            with self._lock:
                events = self.consumer.poll(max_records=self.batch_size)
                if not events:
                    break
                stored += self._store_or_rewind(events)
                self.consumer.commit(events)
        return stored

    def _store_or_rewind(self, events: list[Event]) -> int:
        """Store a batch; if that fails, leave the group so the batch is read again."""
        try:
            return self._store(events)
        except Exception:
            # The member's position is past the batch; a new member resumes at the commit.
            self._leave()
            raise

    def _store(self, events: list[Event]) -> int:
        stored = 0
        with session_scope(self.session_factory) as session:
            for event in events:
                envelope = self._read(event)
                if envelope is None:
                    continue
                if add_event(session, observation(event, envelope)):
                    session.add_all(metric_points(envelope))
                    stored += 1
        return stored

    def _read(self, event: Event) -> EventEnvelope | None:
        try:
            envelope = read_event(event)
        except ValidationError as exc:
            # A record no reader can use is skipped (and counted), never retried forever.
            self.skipped += 1
            logger.warning("skipped %s@%s: %s", event.topic, event.offset, exc.message)
            return None
        if envelope.type not in INGESTED:
            return None
        return envelope

    def announce(self, kind: EventType, data: dict[str, Any]) -> None:
        """Publish an alert event; a bus that refuses it is logged, the alert stays stored."""
        try:
            publish_event(self.bus(), make_event(kind, data, source=SOURCE, clock=self.clock))
        except SynapseError as exc:
            logger.warning("could not announce %s: %s", kind.value, exc.message)
