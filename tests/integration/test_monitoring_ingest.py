"""What monitoring files from the bus: traces from any producer, training metrics, health."""

from __future__ import annotations

import pytest

from shared.backends import get_discovery
from shared.clients.consul import ServiceRegistration
from shared.events.schema import EventType, make_event, publish_event
from tests.utils.monitoring import (
    evaluate,
    make_monitoring,
    prediction_envelope,
    publish_raw,
    serving,
)

pytestmark = pytest.mark.monitoring


def test_event_whose_id_travels_only_in_its_envelope_is_filed_under_it():
    env = make_monitoring()
    envelope = prediction_envelope(correlation_id="batch-42", at=env.clock())
    publish_raw(env.bus, envelope)  # a producer that sets no record headers
    with serving(env) as client:
        evaluate(client)
        trace = client.get("/api/v1/traces/batch-42")
    assert trace.status_code == 200, trace.text
    assert [e["event_id"] for e in trace.json()["events"]] == [envelope.id]


def test_record_header_names_the_trace_of_an_event():
    env = make_monitoring()
    envelope = prediction_envelope(at=env.clock())
    publish_raw(env.bus, envelope, headers={"x-correlation-id": "hdr-only-7"})
    with serving(env) as client:
        evaluate(client)
        trace = client.get("/api/v1/traces/hdr-only-7")
    assert trace.status_code == 200
    assert [e["event_id"] for e in trace.json()["events"]] == [envelope.id]


def test_events_of_one_request_are_listed_oldest_first():
    env = make_monitoring()
    first = prediction_envelope(correlation_id="req-9", at=env.clock())
    env.clock.advance(2)
    second = prediction_envelope("fraud", correlation_id="req-9", at=env.clock())
    publish_raw(env.bus, second)
    publish_raw(env.bus, first)
    with serving(env) as client:
        evaluate(client)
        events = client.get("/api/v1/traces/req-9").json()["events"]
    assert [e["event_id"] for e in events] == [first.id, second.id]


def test_training_job_outcomes_are_filed_under_their_model():
    env = make_monitoring()
    data = {"job_id": "j-1", "model_name": "churn", "model_version": 4, "metrics": {"acc": 0.9}}
    event = make_event(
        EventType.TRAINING_JOB_COMPLETED,
        data,
        source="training",
        correlation_id="train-1",
        clock=env.clock,
    )
    publish_event(env.bus, event)
    with serving(env) as client:
        evaluate(client)
        [filed] = client.get("/api/v1/traces/train-1").json()["events"]
    assert (filed["type"], filed["model"], filed["version"]) == (
        "training.job.completed",
        "churn",
        4,
    )


def test_service_health_follows_the_instances_discovery_reports():
    env = make_monitoring()
    with serving(env) as client:
        get_discovery().register(
            ServiceRegistration(service="registry", host="10.0.0.8", port=8003)
        )
        report = client.get("/api/v1/services").json()
    states = {s["service"]: (s["status"], s["instances"]) for s in report["services"]}
    assert states["registry"] == ("up", 1)
    assert states["monitoring"] == ("up", 1)
    assert states["training"] == ("down", 0)
    assert report["status"] == "degraded"


def test_reading_one_record_per_poll_still_files_every_event():
    env = make_monitoring(batch_size=1)
    envelopes = [prediction_envelope(correlation_id="one-by-one", at=env.clock()) for _ in range(3)]
    for envelope in envelopes:
        publish_raw(env.bus, envelope)
    with serving(env) as client:
        evaluate(client)
        events = client.get("/api/v1/traces/one-by-one").json()["events"]
    assert sorted(e["event_id"] for e in events) == sorted(e.id for e in envelopes)
