"""Event envelope schema: required fields, version, types, time zones and round trips."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.errors import ValidationError
from shared.events import schema
from shared.events.schema import EVENT_SPECS, PLATFORM_TOPICS, EventType
from tests.utils.events import drain, make_memory_bus

pytestmark = pytest.mark.registry

EVENT_ID = "3f1c2a7e-8b4d-4c1e-9f0a-2b6d5e4c3a21"
WHEN = datetime(2024, 11, 3, 5, 30, tzinfo=UTC)  # 01:30 EDT, the hour that repeats in New York

PIPELINE_RUN = {
    "pipeline": "daily",
    "version": 1,
    "run_id": "run-0001",
    "dataset": "clicks",
    "dataset_version": "3f1c0a",
}
SAMPLE_DATA = {
    EventType.MODEL_VERSION_REGISTERED: {"name": "iris", "version": 3, "artifact_uri": "s3://m/3"},
    EventType.MODEL_STAGE_CHANGED: {
        "name": "iris",
        "version": 3,
        "from_stage": "Staging",
        "to_stage": "Production",
    },
    EventType.MODEL_VERSION_PROMOTED: {
        "name": "iris",
        "version": 3,
        "artifact_uri": "s3://m/3",
        "archived_versions": [2],
    },
    EventType.TRAINING_JOB_COMPLETED: {
        "job_id": "j-1",
        "model_name": "iris",
        "model_version": 3,
        "metrics": {"accuracy": 0.97},
    },
    EventType.TRAINING_JOB_FAILED: {"job_id": "j-2", "model_name": "iris", "error": "diverged"},
    EventType.DEPLOYMENT_SWAPPED: {"name": "iris", "version": 3, "previous_version": None},
    EventType.DEPLOYMENT_UNLOADED: {"name": "iris", "version": 2},
    EventType.FEATURES_MATERIALIZED: {"feature_view": "user_stats", "rows": 1200},
    EventType.DRIFT_DETECTED: {"model_name": "iris", "feature": "petal_width", "score": 0.41},
    EventType.EXPERIMENT_RUN_FINISHED: {"experiment": "lr-sweep", "run_id": "r-9", "status": "ok"},
    EventType.DATASET_VERSION_COMMITTED: {
        "dataset": "churn",
        "version": "ab" * 32,
        "namespace": "datasets",
        "objects": 2,
        "size": 2048,
    },
    EventType.PREDICTION_SERVED: {"name": "churn", "version": 3, "status": 200, "latency_ms": 4.5},
    EventType.ALERT_FIRED: {"rule": "churn-errors", "model": "churn", "value": 5.0},
    EventType.ALERT_RESOLVED: {"rule": "churn-errors", "model": "churn", "value": 0.0},
    EventType.PIPELINE_RUN_STARTED: PIPELINE_RUN,
    EventType.PIPELINE_RUN_SUCCEEDED: PIPELINE_RUN,
    EventType.PIPELINE_RUN_FAILED: {**PIPELINE_RUN, "error": "step 'fit' failed"},
    EventType.PIPELINE_STEP_DEAD_LETTERED: {
        **PIPELINE_RUN,
        "step": "fit",
        "attempts": 3,
        "error": "training answered 503",
    },
}


def registered(**overrides):
    data = {**SAMPLE_DATA[EventType.MODEL_VERSION_REGISTERED], **overrides}
    return schema.make_event(
        EventType.MODEL_VERSION_REGISTERED,
        data,
        source="registry",
        correlation_id="corr-1",
        clock=lambda: WHEN,
        new_id=lambda: EVENT_ID,
    )


def body(**overrides):
    return {**schema.to_dict(registered()), **overrides}


def test_every_platform_event_type_has_sample_data():
    assert set(SAMPLE_DATA) == set(EventType) == set(EVENT_SPECS)


def test_envelope_serialises_to_the_documented_fields():
    assert schema.to_dict(registered()) == {
        "id": EVENT_ID,
        "type": "model.version.registered",
        "version": 1,
        "source": "registry",
        "occurred_at": "2024-11-03T05:30:00+00:00",
        "correlation_id": "corr-1",
        "data": {"name": "iris", "version": 3, "artifact_uri": "s3://m/3"},
    }


def test_envelope_round_trips_through_json_text():
    envelope = registered()
    text = schema.dumps(envelope)
    assert json.loads(text)["type"] == "model.version.registered"
    assert schema.loads(text) == envelope


@pytest.mark.parametrize("field", schema.ENVELOPE_FIELDS)
def test_envelope_missing_a_required_field_is_rejected(field):
    incomplete = body()
    del incomplete[field]
    with pytest.raises(ValidationError) as info:
        schema.from_dict(incomplete)
    assert f"missing field {field!r}" in info.value.details["errors"]


@pytest.mark.parametrize("version", [0, 2, "1", True, None])
def test_envelope_with_an_unsupported_version_is_rejected(version):
    with pytest.raises(ValidationError, match="invalid event envelope"):
        schema.from_dict(body(version=version))


@pytest.mark.parametrize(
    "overrides",
    [
        {"type": "model.deleted"},
        {"source": "billing"},
        {"id": "not-a-uuid"},
        {"occurred_at": "2024-11-03T01:30:00"},
        {"occurred_at": "yesterday"},
        {"correlation_id": ""},
        {"data": ["iris", 3]},
        {"extra": "field"},
    ],
    ids=["type", "source", "id", "time-without-zone", "time-text", "correlation", "data", "extra"],
)
def test_envelope_with_a_bad_field_is_rejected(overrides):
    with pytest.raises(ValidationError):
        schema.from_dict(body(**overrides))


@pytest.mark.parametrize(
    "data",
    [
        {"name": "iris", "artifact_uri": "s3://m/3"},
        {"name": "iris", "version": "3", "artifact_uri": "s3://m/3"},
        {"name": "iris", "version": True, "artifact_uri": "s3://m/3"},
        {"name": "iris", "version": 3, "artifact_uri": "s3://m/3", "at": datetime.now(UTC)},
    ],
    ids=["missing", "string-int", "bool-int", "not-json"],
)
def test_event_data_is_checked_against_its_type(data):
    with pytest.raises(ValidationError):
        schema.from_dict(body(data=data))


def test_occurred_at_with_an_offset_is_the_same_instant_in_utc():
    eastern = WHEN.astimezone(timezone(timedelta(hours=-4))).isoformat()
    envelope = schema.from_dict(body(occurred_at=eastern))
    assert envelope.occurred_at == WHEN
    assert envelope.occurred_at.utcoffset() == timedelta(0)
    assert schema.to_dict(envelope)["occurred_at"] == "2024-11-03T05:30:00+00:00"


def test_making_an_event_with_a_naive_clock_is_rejected():
    with pytest.raises(ValidationError, match="timezone-aware"):
        schema.make_event(
            EventType.DEPLOYMENT_UNLOADED,
            SAMPLE_DATA[EventType.DEPLOYMENT_UNLOADED],
            source="inference",
            clock=lambda: datetime(2024, 11, 3, 1, 30),
        )


@pytest.mark.parametrize("event_type", list(EventType), ids=lambda t: t.value)
def test_each_event_type_travels_over_its_platform_topic(event_type):
    bus = make_memory_bus()
    schema.ensure_topics(bus)
    envelope = schema.make_event(event_type, SAMPLE_DATA[event_type], source="workers")
    landed = schema.publish_event(bus, envelope)
    assert landed.topic == EVENT_SPECS[event_type].topic
    [event] = drain(bus.subscribe(landed.topic, group_id="audit"))
    assert event.key == str(SAMPLE_DATA[event_type][EVENT_SPECS[event_type].key_field])
    assert schema.read_event(event) == envelope


def test_ensure_topics_creates_every_platform_topic_and_is_repeatable():
    bus = make_memory_bus()
    schema.ensure_topics(bus)
    schema.ensure_topics(bus)
    assert {t: bus.partition_count(t) for t in bus.list_topics()} == PLATFORM_TOPICS


def test_an_envelope_holding_nan_is_never_written_as_json():
    envelope = schema.EventEnvelope(
        type=EventType.DRIFT_DETECTED,
        source="monitoring",
        data={"model_name": "churn", "feature": "spend", "score": float("nan")},
        id="4f0c2a3e9d6b4c1a8e7f5d3b2a1c0e9f",
        occurred_at=datetime(2024, 3, 10, 8, tzinfo=UTC),
    )
    with pytest.raises(ValueError, match="not JSON compliant"):
        schema.dumps(envelope)
