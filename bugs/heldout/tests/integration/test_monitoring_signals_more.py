"""Held-out: traces, resolution, redelivery and outages on other inputs and paths."""

from __future__ import annotations

import pytest

from shared.events.schema import EventType, make_event, publish_event
from tests.utils.monitoring import (
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


def test_failed_job_announced_without_record_headers_is_traceable():
    env = make_monitoring()
    data = {"job_id": "j-77", "model_name": "ranker", "error": "diverged"}
    envelope = make_event(
        EventType.TRAINING_JOB_FAILED,
        data,
        source="training",
        correlation_id="nightly-3",
        clock=env.clock,
    )
    publish_raw(env.bus, envelope)
    with serving(env) as client:
        evaluate(client)
        response = client.get("/api/v1/traces/nightly-3")
    assert response.status_code == 200
    assert [e["type"] for e in response.json()["events"]] == ["training.job.failed"]


def test_deployment_event_published_with_an_id_carries_it_as_a_header():
    env = make_monitoring()
    consumer = env.bus.subscribe("inference.deployments", "heldout-reader")
    data = {"name": "ranker", "version": 12, "previous_version": 11}
    publish_event(
        env.bus,
        make_event(EventType.DEPLOYMENT_SWAPPED, data, source="inference", correlation_id="op:55"),
    )
    [record] = consumer.poll()
    assert record.headers.get("x-correlation-id") == "op:55"


def test_latency_rule_alert_resolves_after_a_five_minute_window_goes_quiet():
    env = make_monitoring()
    with serving(env) as client:
        rule(client, "slow", metric="request_count", threshold=3, window_seconds=300)
        for _ in range(4):
            env.prediction("ranker", latency_ms=900.0)
        evaluate(client)
        env.clock.advance(301)
        evaluate(client)
        assert [a["status"] for a in alerts(client, rule="slow")] == ["resolved"]


def test_success_published_three_times_is_one_request():
    env = make_monitoring()
    envelope = prediction_envelope("ranker", at=env.clock(), latency_ms=7.0)
    for _ in range(3):
        publish_raw(env.bus, envelope)
    with serving(env) as client:
        rule(client, "busy", metric="request_count", threshold=2, model="ranker")
        assert evaluate(client) == []
        assert client.get("/api/v1/models/ranker/latency").json()["count"] == 1


def test_two_separate_error_bursts_each_raise_one_alert():
    env = make_monitoring()
    with serving(env) as client:
        rule(client, "ranker-errors", threshold=2, window_seconds=10)
        errors(env.bus, 2, "ranker", at=env.clock())
        evaluate(client)
        env.clock.advance(11)
        evaluate(client)
        env.clock.advance(5)
        errors(env.bus, 3, "ranker", at=env.clock())
        evaluate(client)
        assert [a["status"] for a in alerts(client, rule="ranker-errors")] == ["firing", "resolved"]
