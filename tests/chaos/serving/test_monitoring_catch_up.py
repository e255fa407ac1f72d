"""Monitoring through bus partitions and metrics_db outages: catch up, lose and double nothing."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from services.monitoring.events import Ingestor
from tests.utils.monitoring import (
    alert_events,
    alerts,
    errors,
    evaluate,
    make_monitoring,
    prediction_envelope,
    publish_raw,
    rule,
    serving,
)

pytestmark = pytest.mark.monitoring


class FlakySessions:
    """A session factory that fails while the database is "down"."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.down = False

    def __call__(self):
        if self.down:
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("metrics_db down"))
        return self.inner()


def replica(env, sessions=None) -> Ingestor:
    """Return another ingestor of the same group (a restarted monitoring process)."""
    factory = sessions or env.app.state.monitor.session_factory
    return Ingestor(factory, lambda: env.bus, env.clock, group="monitoring")


def counted(client) -> tuple[int, int]:
    summary = client.get("/api/v1/models/churn/latency").json()
    return summary["count"], summary["errors"]


def test_restarted_consumer_resumes_from_its_committed_offset():
    env = make_monitoring()
    with serving(env) as client:
        errors(env.bus, 4, at=env.clock())
        assert env.ingestor.drain() == 4
        env.ingestor.close()  # the process dies; the bus keeps taking events
        for _ in range(3):
            env.prediction()
        resent = prediction_envelope(status=500, at=env.clock())
        publish_raw(env.bus, resent)
        publish_raw(env.bus, resent)  # the producer's retry while monitoring was down
        assert replica(env).drain() == 4
        assert counted(client) == (8, 5)


def test_batch_read_during_a_database_outage_is_ingested_once_it_recovers():
    env = make_monitoring()
    sessions = FlakySessions(env.app.state.monitor.session_factory)
    ingestor = replica(env, sessions)
    with serving(env) as client:
        errors(env.bus, 3, at=env.clock())
        sessions.down = True
        with pytest.raises(OperationalError):
            ingestor.poll_once()
        sessions.down = False
        env.prediction()
        assert ingestor.poll_once() == 4
        assert ingestor.poll_once() == 0
        assert counted(client) == (4, 3)


def test_draining_through_a_database_outage_loses_nothing():
    env = make_monitoring()
    sessions = FlakySessions(env.app.state.monitor.session_factory)
    ingestor = replica(env, sessions)
    with serving(env) as client:
        for _ in range(5):
            env.prediction(status=500)
        sessions.down = True
        with pytest.raises(OperationalError):
            ingestor.drain()
        sessions.down = False
        assert ingestor.drain() == 5
        assert counted(client) == (5, 5)


def test_evaluation_during_a_database_outage_is_503_and_nothing_is_lost():
    env = make_monitoring()
    sessions = FlakySessions(env.app.state.monitor.session_factory)
    env.app.state.ingestor = replica(env, sessions)
    with serving(env) as client:
        for _ in range(2):
            env.prediction()
        sessions.down = True
        response = client.post("/api/v1/alerts/evaluate")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        sessions.down = False
        evaluate(client)
        assert counted(client) == (2, 0)


def test_redelivered_batch_after_a_lost_commit_is_not_counted_twice():
    env = make_monitoring()
    with serving(env) as client:
        rule(client, threshold=5)
        errors(env.bus, 5, at=env.clock())
        first = replica(env)
        first.consumer.poll()  # read, stored by nobody, never committed: the member is evicted
        first.close()
        assert env.ingestor.poll_once() == 5
        again = replica(env)
        assert again.drain() == 0
        assert [a["value"] for a in alerts(client)] == [5.0]


def test_burst_the_producer_retried_during_a_partition_raises_one_alert_of_its_real_size():
    env = make_monitoring()
    with serving(env) as client:
        rule(client, threshold=5)
        burst = [prediction_envelope(status=502, at=env.clock()) for _ in range(6)]
        for envelope in burst:
            publish_raw(env.bus, envelope)
        for envelope in burst[2:]:
            publish_raw(env.bus, envelope)  # re-sent once the partition healed
        evaluate(client)
        evaluate(client)
        fired = alerts(client)
    assert [(a["status"], a["value"]) for a in fired] == [("firing", 6.0)]
    assert [e["value"] for e in alert_events(env.bus)] == [6.0]


def test_catching_up_on_a_burst_after_a_partition_raises_exactly_one_alert():
    env = make_monitoring()
    with serving(env) as client:
        rule(client, threshold=5)
        errors(env.bus, 3, at=env.clock())
        assert env.ingestor.poll_once() == 3
        env.ingestor.close()
        errors(env.bus, 9, at=env.clock())  # published while monitoring was cut off
        resent = prediction_envelope(status=502, at=env.clock())
        publish_raw(env.bus, resent)
        publish_raw(env.bus, resent)
        restarted = replica(env)
        while restarted.poll_once():
            pass
        assert restarted.poll_once() == 0
    assert [(e["type"], e["value"]) for e in alert_events(env.bus)] == [("alert.fired", 13.0)]
