"""Monitoring test helpers: an app on in-memory SQLite, a manual UTC clock, event publishers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.monitoring.config import Settings
from services.monitoring.events import Ingestor
from services.monitoring.main import create_app
from shared.backends import get_bus, get_discovery
from shared.events.base import EventBus, RecordMetadata
from shared.events.schema import (
    EventType,
    make_event,
    publish_event,
    to_dict,
)

MEMORY_URL = "sqlite+pysqlite:///:memory:"
T0 = datetime(2024, 3, 10, 6, 30, tzinfo=UTC)  # the morning of a US DST change


class UTCClock:
    """A UTC clock that moves only when advanced."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class MonitoringEnv:
    """A monitoring app (not started) with its clock and the bus it reads."""

    app: FastAPI
    clock: UTCClock
    bus: EventBus

    @property
    def ingestor(self) -> Ingestor:
        """Return the app's ingestor."""
        return self.app.state.ingestor

    def prediction(self, model: str = "churn", **fields: Any) -> RecordMetadata:
        """Publish one prediction event stamped with the clock's time."""
        return publish_prediction(self.bus, model, at=self.clock(), **fields)


def make_monitoring(
    *, bus: EventBus | None = None, clock: UTCClock | None = None, **settings: Any
) -> MonitoringEnv:
    """Build a monitoring app on in-memory SQLite that consumes only when told to.

    ``features=`` gives it a feature store client for drift checks.
    """
    bus = bus or get_bus()
    clock = clock or UTCClock()
    features = settings.pop("features", None)
    values: dict[str, Any] = {"database_url": MEMORY_URL, "consume": False, **settings}
    app = create_app(
        Settings(**values),
        bus=lambda: bus,
        clock=clock,
        discovery=get_discovery,
        features=features,
    )
    return MonitoringEnv(app, clock, bus)


@contextmanager
def serving(env: MonitoringEnv) -> Iterator[TestClient]:
    """Start the app and yield a client."""
    with TestClient(env.app) as client:
        yield client


def prediction_envelope(
    model: str = "churn",
    *,
    at: datetime = T0,
    status: int = 200,
    latency_ms: float = 12.0,
    version: int | None = 1,
    correlation_id: str | None = None,
):
    """Return a ``prediction.served`` envelope as inference builds it."""
    data = {"name": model, "version": version, "status": status, "latency_ms": latency_ms}
    return make_event(
        EventType.PREDICTION_SERVED,
        data,
        source="inference",
        correlation_id=correlation_id,
        clock=lambda: at,
    )


def publish_prediction(bus: EventBus, model: str = "churn", **fields: Any) -> RecordMetadata:
    """Publish one prediction event the way inference does."""
    return publish_event(bus, prediction_envelope(model, **fields))


def publish_raw(bus: EventBus, envelope: Any, headers: dict[str, str] | None = None) -> None:
    """Publish an envelope as a producer that sets only the headers given."""
    bus.publish(envelope.topic, to_dict(envelope), key=envelope.key, headers=headers or {})


def errors(bus: EventBus, count: int, model: str = "churn", **fields: Any) -> None:
    """Publish ``count`` failed predictions (status 502)."""
    for _ in range(count):
        publish_prediction(bus, model, status=502, **fields)


def rule(
    client: TestClient, name: str = "churn-errors", *, metric: str = "error_count", **fields: Any
) -> dict[str, Any]:
    """Create an alert rule (errors over a minute, threshold 5 unless told) and return it."""
    body = {"name": name, "metric": metric, "threshold": 5, "window_seconds": 60, **fields}
    response = client.post("/api/v1/rules", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def evaluate(client: TestClient) -> list[dict[str, Any]]:
    """Ingest what the bus holds, evaluate every rule and return the alerts that changed."""
    response = client.post("/api/v1/alerts/evaluate")
    assert response.status_code == 200, response.text
    return response.json()["items"]


def alerts(client: TestClient, **params: str) -> list[dict[str, Any]]:
    """Return the alerts, newest first."""
    response = client.get("/api/v1/alerts", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def alert_events(bus: EventBus) -> list[dict[str, Any]]:
    """Return every alert event on monitoring.alerts as (type, data) dicts, in order."""
    consumer = bus.subscribe("monitoring.alerts", f"alerts-{uuid.uuid4().hex}")
    try:
        events = consumer.poll(max_records=500)
    finally:
        consumer.close()
    return [{"type": e.value["type"], **e.value["data"]} for e in events]
