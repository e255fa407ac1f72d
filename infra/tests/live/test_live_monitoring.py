"""Monitoring on the real stack: metrics_db on PostgreSQL, events consumed from the Kafka broker.

The monitoring app runs in-process (no uvicorn) on the stack's metrics_db with its ingestor in
a group of its own on the real topics. Events are published the way the producing services
publish them; the checks read the API (latency counts, alerts, traces), metrics_db and the
alerts topic. Waits poll observable state with a bound; nothing sleeps a fixed time. The
module removes the rows, alerts and rule it made (topics keep their events).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from infra.tests.live.support import unique
from services.monitoring.config import Settings
from services.monitoring.events import TOPICS
from services.monitoring.main import create_app
from services.monitoring.store import AlertRow, EventRow, MetricPointRow
from shared.bootstrap.runner import run_steps
from shared.db import session_scope
from shared.events.base import TopicPartition
from shared.events.kafka import KafkaEventBus
from shared.events.schema import EventEnvelope, EventType, make_event, publish_event
from shared.infra_settings import sqlalchemy_url
from shared.utils.timeutils import utcnow
from tests.utils.monitoring import prediction_envelope


class Live:
    """The app, its client and ingestor, the bus, and what this run made (for cleanup)."""

    def __init__(self, app: Any, client: TestClient, bus: KafkaEventBus) -> None:
        self.app, self.client, self.bus = app, client, bus
        self.models: list[str] = []
        self.rules: list[str] = []

    @property
    def ingestor(self) -> Any:
        return self.app.state.ingestor

    def model(self) -> str:
        name = unique("live-mon")
        self.models.append(name)
        return name

    def publish(self, envelope: EventEnvelope) -> EventEnvelope:
        publish_event(self.bus, envelope)
        return envelope

    def prediction(self, model: str, **fields: Any) -> EventEnvelope:
        return self.publish(prediction_envelope(model, at=utcnow(), **fields))

    def job(self, model: str, metrics: dict[str, float], trace: str | None = None) -> EventEnvelope:
        data = {
            "job_id": unique("job"),
            "model_name": model,
            "model_version": 1,
            "metrics": metrics,
        }
        return self.publish(
            make_event(
                EventType.TRAINING_JOB_COMPLETED, data, source="training", correlation_id=trace
            )
        )

    def count(self, model: str) -> int:
        """Return how many predictions of model monitoring has stored (via the API)."""
        response = self.client.get(f"/api/v1/models/{model}/latency")
        return response.json()["count"] if response.status_code == 200 else 0

    def rows(self, table: Any, model: str) -> int:
        with session_scope(self.app.state.monitor.session_factory) as session:
            stmt = select(func.count()).select_from(table).where(table.model == model)
            return int(session.scalar(stmt) or 0)

    def ingest_until(self, done: Callable[[], bool], within: float = 15.0) -> None:
        """Ingest what the broker delivers until done() holds or the time is up."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            self.ingestor.drain()
            if done():
                return
            time.sleep(0.05)  # between polls of the broker, not a wait for a result
        raise AssertionError(f"not ingested within {within} s")


@pytest.fixture(scope="module")
def live(infra_settings) -> Iterator[Live]:
    results = run_steps(["kafka"], settings=infra_settings)
    assert all(result.ok for result in results), [result.line() for result in results]
    bus = KafkaEventBus(
        infra_settings.kafka_servers(),
        client_id=unique("live-monitoring"),
        session_timeout_ms=1_500,
        heartbeat_interval_ms=200,
    )
    settings = Settings(
        database_url=sqlalchemy_url(infra_settings.database_url("metrics_db")),
        consume=False,
        events_group=unique("live-monitoring"),
        batch_size=500,
    )
    start_at_the_end(bus, settings.events_group)
    app = create_app(settings, bus=lambda: bus, clock=utcnow)
    with TestClient(app) as client:
        state = Live(app, client, bus)
        yield state
        cleanup(state)
    bus.close()


def start_at_the_end(bus: KafkaEventBus, group: str, within: float = 15.0) -> None:
    """Commit the group's offsets at the end of the topics, so it reads only this run's events.

    A new group reads from the beginning (the ingestor's reset): it would ingest every earlier
    run's events again, rows this module could not tell from its own.
    """
    consumer = bus.subscribe(list(TOPICS), group, auto_offset_reset="latest")
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            consumer.poll(timeout_ms=200)  # joins, then resolves the positions at the end
            assigned = consumer.assignment()
            if assigned:
                consumer.commit()
                if all(consumer.committed(tp) is not None for tp in assigned):
                    return
        raise AssertionError(f"group {group} was not positioned within {within} s")
    finally:
        consumer.close()


def cleanup(live: Live) -> None:
    for name in live.rules:
        live.client.delete(f"/api/v1/rules/{name}")
    with session_scope(live.app.state.monitor.session_factory) as session:
        session.execute(delete(AlertRow).where(AlertRow.rule.in_(live.rules)))
        session.execute(delete(MetricPointRow).where(MetricPointRow.model.in_(live.models)))
        session.execute(delete(EventRow).where(EventRow.model.in_(live.models)))
    live.app.state.monitor.session_factory.kw["bind"].dispose()


def test_monitoring_runs_on_postgres(live):
    engine = live.app.state.monitor.session_factory.kw["bind"]
    assert engine.dialect.name == "postgresql"
    assert live.client.get("/ready").status_code == 200


def test_predictions_and_metric_points_published_on_the_bus_are_stored_once(live):
    model = live.model()
    sent = [live.prediction(model, latency_ms=10.0 + n) for n in range(5)]
    job = live.job(model, {"accuracy": 0.91, "loss": 0.2})
    live.ingest_until(lambda: live.count(model) == 5 and live.rows(MetricPointRow, model) == 2)
    for envelope in [*sent, job]:  # a producer retrying its publish: same envelopes, new offsets
        live.publish(envelope)
    live.prediction(model, latency_ms=99.0)  # behind the retries on the model's partition
    live.ingest_until(lambda: live.count(model) >= 6)
    live.ingestor.drain()
    assert live.count(model) == 6
    assert live.rows(EventRow, model) == 7
    assert live.rows(MetricPointRow, model) == 2


def test_a_batch_redelivered_after_a_crash_before_the_commit_is_stored_once(live):
    model = live.model()
    sent = {live.prediction(model).id for _ in range(4)}
    ours: list = []
    deadline = time.monotonic() + 15
    while len(ours) < len(sent) and time.monotonic() < deadline:
        batch = live.ingestor.consumer.poll(max_records=500, timeout_ms=200)
        live.ingestor._store(batch)  # stored, but the member dies before committing
        ours += [event for event in batch if event.value.get("id") in sent]
    assert {event.value["id"] for event in ours} == sent, "the batch never arrived"
    for event in ours:  # the group's position is still before the batch
        committed = live.ingestor.consumer.committed(TopicPartition(event.topic, event.partition))
        assert committed is None or committed <= event.offset
    live.ingestor.close()  # leaves the group uncommitted: the batch is delivered again
    assert live.count(model) == 4
    live.prediction(model)
    live.ingest_until(lambda: live.count(model) >= 5)
    assert live.count(model) == 5
    assert live.rows(EventRow, model) == 5


def alert_events(live: Live, rule: str, within: float = 10.0) -> list[tuple[str, str]]:
    """Read monitoring.alerts from the beginning with a new group; keep the rule's events."""
    consumer = live.bus.subscribe("monitoring.alerts", unique("live-pager"))
    found: list[tuple[str, str]] = []
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            batch = consumer.poll(max_records=500, timeout_ms=300)
            found += [(e.value["type"], e.value["data"]["rule"]) for e in batch]
            if not batch and found and consumer.assignment():
                break
    finally:
        consumer.close()
    return [item for item in found if item[1] == rule]


def test_an_error_burst_raises_exactly_one_alert(live):
    model, rule = live.model(), unique("live-errors")
    body = {"name": rule, "metric": "error_count", "model": model}
    created = live.client.post(
        "/api/v1/rules", json={**body, "threshold": 5, "window_seconds": 600}
    )
    assert created.status_code == 201, created.text
    live.rules.append(rule)
    for _ in range(8):
        live.prediction(model, status=502)

    def alerted() -> bool:
        live.client.post("/api/v1/alerts/evaluate")
        return live.count(model) == 8 and bool(
            live.client.get(f"/api/v1/alerts?rule={rule}").json()["items"]
        )

    live.ingest_until(alerted)
    for _ in range(3):
        live.prediction(model, status=503)
    live.ingest_until(lambda: live.count(model) == 11)
    assert live.client.post("/api/v1/alerts/evaluate").status_code == 200
    items = live.client.get("/api/v1/alerts", params={"rule": rule}).json()["items"]
    assert [(a["model"], a["status"]) for a in items] == [(model, "firing")]
    assert alert_events(live, rule) == [("alert.fired", rule)]


def test_a_trace_id_published_on_the_bus_is_found_through_the_traces_api(live):
    model, trace = live.model(), unique("live-trace")
    job = live.job(model, {"accuracy": 0.8}, trace=trace)
    served = live.prediction(model, correlation_id=trace)
    live.prediction(model)  # another request of the same model, under its own trace

    def traced() -> bool:
        return len(live.client.get(f"/api/v1/traces/{trace}").json().get("events", [])) == 2

    live.ingest_until(traced)
    events = live.client.get(f"/api/v1/traces/{trace}").json()["events"]
    assert [(e["event_id"], e["type"]) for e in events] == [
        (job.id, "training.job.completed"),
        (served.id, "prediction.served"),
    ]
