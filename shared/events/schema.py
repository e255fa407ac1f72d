"""Platform event envelopes: typed event names, their topics and JSON (de)serialisation."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from shared.errors import ValidationError
from shared.events.base import Event, EventBus, RecordMetadata
from shared.services import SERVICES
from shared.tracing import CORRELATION_HEADER
from shared.utils.timeutils import utcnow

SCHEMA_VERSION = 1
ENVELOPE_FIELDS = ("id", "type", "version", "source", "occurred_at", "data")
OPTIONAL_ENVELOPE_FIELDS = ("correlation_id",)

# Topic name -> partition count; Kafka's auto-creation is off, so these are created up front.
PLATFORM_TOPICS: dict[str, int] = {
    "models.versions": 3,
    "training.jobs": 3,
    "inference.deployments": 3,
    "features.updates": 3,
    "monitoring.alerts": 1,
    "experiments.runs": 3,
    "storage.datasets": 3,
    "inference.predictions": 3,
    "pipeline.runs": 3,
    "pipeline.dead-letters": 1,
}


class EventType(StrEnum):
    """The domain events the platform publishes."""

    MODEL_VERSION_REGISTERED = "model.version.registered"
    MODEL_STAGE_CHANGED = "model.stage.changed"
    MODEL_VERSION_PROMOTED = "model.version.promoted"
    TRAINING_JOB_COMPLETED = "training.job.completed"
    TRAINING_JOB_FAILED = "training.job.failed"
    DEPLOYMENT_SWAPPED = "deployment.swapped"
    DEPLOYMENT_UNLOADED = "deployment.unloaded"
    FEATURES_MATERIALIZED = "features.materialized"
    DRIFT_DETECTED = "drift.detected"
    EXPERIMENT_RUN_FINISHED = "experiment.run.finished"
    DATASET_VERSION_COMMITTED = "dataset.version.committed"
    PREDICTION_SERVED = "prediction.served"
    ALERT_FIRED = "alert.fired"
    ALERT_RESOLVED = "alert.resolved"
    PIPELINE_RUN_STARTED = "pipeline.run.started"
    PIPELINE_RUN_SUCCEEDED = "pipeline.run.succeeded"
    PIPELINE_RUN_FAILED = "pipeline.run.failed"
    PIPELINE_STEP_DEAD_LETTERED = "pipeline.step.dead_lettered"


_STR, _INT, _NUM, _OBJ = (str,), (int,), (int, float), (dict,)
# What every pipeline run event names: the run, its pinned pipeline version and its data.
_RUN_FIELDS: dict[str, tuple[type, ...]] = {
    "pipeline": _STR,
    "version": _INT,
    "run_id": _STR,
    "dataset": _STR,
    "dataset_version": _STR,
}


@dataclass(frozen=True)
class EventSpec:
    """Where an event type is published, what keys it, and which data fields it requires."""

    topic: str
    key_field: str
    fields: Mapping[str, tuple[type, ...]]


EVENT_SPECS: dict[EventType, EventSpec] = {
    EventType.MODEL_VERSION_REGISTERED: EventSpec(
        "models.versions", "name", {"name": _STR, "version": _INT, "artifact_uri": _STR}
    ),
    EventType.MODEL_STAGE_CHANGED: EventSpec(
        "models.versions",
        "name",
        {"name": _STR, "version": _INT, "from_stage": _STR, "to_stage": _STR},
    ),
    EventType.MODEL_VERSION_PROMOTED: EventSpec(
        "models.versions",
        "name",
        {
            "name": _STR,
            "version": _INT,
            "artifact_uri": _STR,
            "archived_versions": (list,),
        },
    ),
    EventType.TRAINING_JOB_COMPLETED: EventSpec(
        "training.jobs",
        "model_name",
        {"job_id": _STR, "model_name": _STR, "model_version": _INT, "metrics": _OBJ},
    ),
    EventType.TRAINING_JOB_FAILED: EventSpec(
        "training.jobs", "model_name", {"job_id": _STR, "model_name": _STR, "error": _STR}
    ),
    EventType.DEPLOYMENT_SWAPPED: EventSpec(
        "inference.deployments",
        "name",
        {"name": _STR, "version": _INT, "previous_version": (int, type(None))},
    ),
    EventType.DEPLOYMENT_UNLOADED: EventSpec(
        "inference.deployments", "name", {"name": _STR, "version": _INT}
    ),
    EventType.FEATURES_MATERIALIZED: EventSpec(
        "features.updates", "feature_view", {"feature_view": _STR, "rows": _INT}
    ),
    EventType.DRIFT_DETECTED: EventSpec(
        "monitoring.alerts", "model_name", {"model_name": _STR, "feature": _STR, "score": _NUM}
    ),
    EventType.EXPERIMENT_RUN_FINISHED: EventSpec(
        "experiments.runs", "experiment", {"experiment": _STR, "run_id": _STR, "status": _STR}
    ),
    EventType.DATASET_VERSION_COMMITTED: EventSpec(
        "storage.datasets",
        "dataset",
        {"dataset": _STR, "version": _STR, "namespace": _STR, "objects": _INT, "size": _INT},
    ),
    EventType.PREDICTION_SERVED: EventSpec(
        "inference.predictions",
        "name",
        {"name": _STR, "version": (int, type(None)), "status": _INT, "latency_ms": _NUM},
    ),
    EventType.ALERT_FIRED: EventSpec(
        "monitoring.alerts", "rule", {"rule": _STR, "model": _STR, "value": _NUM}
    ),
    EventType.ALERT_RESOLVED: EventSpec(
        "monitoring.alerts", "rule", {"rule": _STR, "model": _STR, "value": _NUM}
    ),
    EventType.PIPELINE_RUN_STARTED: EventSpec("pipeline.runs", "pipeline", _RUN_FIELDS),
    EventType.PIPELINE_RUN_SUCCEEDED: EventSpec("pipeline.runs", "pipeline", _RUN_FIELDS),
    EventType.PIPELINE_RUN_FAILED: EventSpec(
        "pipeline.runs", "pipeline", {**_RUN_FIELDS, "error": _STR}
    ),
    EventType.PIPELINE_STEP_DEAD_LETTERED: EventSpec(
        "pipeline.dead-letters",
        "pipeline",
        {**_RUN_FIELDS, "step": _STR, "attempts": _INT, "error": _STR},
    ),
}


@dataclass(frozen=True)
class EventEnvelope:
    """A platform event: what happened (type, data), where, when, and its identity."""

    type: EventType
    source: str
    data: dict[str, Any]
    id: str
    occurred_at: datetime
    version: int = SCHEMA_VERSION
    correlation_id: str | None = None
    spec: EventSpec = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spec", EVENT_SPECS[self.type])

    @property
    def topic(self) -> str:
        """Return the topic this event type is published to."""
        return self.spec.topic

    @property
    def key(self) -> str:
        """Return the partition key, so events about one entity stay in order."""
        return str(self.data[self.spec.key_field])


def make_event(
    event_type: EventType | str,
    data: Mapping[str, Any],
    *,
    source: str,
    correlation_id: str | None = None,
    clock: Callable[[], datetime] = utcnow,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> EventEnvelope:
    """Build and validate a new envelope stamped with the clock's time and a fresh id."""
    return from_dict(
        {
            "id": new_id(),
            "type": str(event_type),
            "version": SCHEMA_VERSION,
            "source": source,
            "occurred_at": _format_time(clock()),
            "correlation_id": correlation_id,
            "data": dict(data),
        }
    )


def to_dict(envelope: EventEnvelope) -> dict[str, Any]:
    """Return the JSON-ready dict of an envelope (the value published on the bus)."""
    body: dict[str, Any] = {
        "id": envelope.id,
        "type": envelope.type.value,
        "version": envelope.version,
        "source": envelope.source,
        "occurred_at": _format_time(envelope.occurred_at),
        "data": json.loads(json.dumps(envelope.data)),
    }
    if envelope.correlation_id is not None:
        body["correlation_id"] = envelope.correlation_id
    return body


def from_dict(body: Any) -> EventEnvelope:
    """Validate a decoded envelope and return it, or raise ValidationError listing problems."""
    if not isinstance(body, Mapping):
        raise ValidationError("event envelope must be a JSON object")
    problems = _envelope_problems(body)
    if not problems:
        problems = _data_problems(EventType(body["type"]), body["data"])
    if problems:
        raise ValidationError("invalid event envelope", details={"errors": problems})
    return EventEnvelope(
        type=EventType(body["type"]),
        source=body["source"],
        data=dict(body["data"]),
        id=body["id"],
        occurred_at=_parse_time(body["occurred_at"]),
        version=body["version"],
        correlation_id=body.get("correlation_id"),
    )


def dumps(envelope: EventEnvelope) -> str:
    """Serialise an envelope to a JSON string."""
    return json.dumps(to_dict(envelope), sort_keys=True, allow_nan=False)


def loads(text: str | bytes) -> EventEnvelope:
    """Parse and validate an envelope from a JSON string."""
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise ValidationError(f"event envelope is not JSON: {exc}") from exc
    return from_dict(body)


def ensure_topics(bus: EventBus) -> None:
    """Create every platform topic with its partition count (a no-op for existing ones)."""
    for name, partitions in PLATFORM_TOPICS.items():
        bus.create_topic(name, partitions)


def publish_event(
    bus: EventBus, envelope: EventEnvelope, headers: Mapping[str, str] | None = None
) -> RecordMetadata:
    """Publish an envelope to its type's topic, keyed by its entity."""
    record_headers = dict(headers or {})
    if envelope.correlation_id is not None:
        record_headers.setdefault(CORRELATION_HEADER, envelope.correlation_id)
    return bus.publish(envelope.topic, to_dict(envelope), key=envelope.key, headers=record_headers)


def read_event(event: Event) -> EventEnvelope:
    """Validate and return the envelope carried by a consumed record."""
    return from_dict(event.value)


def _envelope_problems(body: Mapping[str, Any]) -> list[str]:
    problems = [f"missing field {name!r}" for name in ENVELOPE_FIELDS if name not in body]
    allowed = set(ENVELOPE_FIELDS) | set(OPTIONAL_ENVELOPE_FIELDS)
    problems += [f"unknown field {name!r}" for name in sorted(set(body) - allowed)]
    if problems:
        return problems
    version = body["version"]
    if not _is_int(version) or not 1 <= version <= SCHEMA_VERSION:
        problems.append(f"unsupported version {version!r}; this reader handles 1..{SCHEMA_VERSION}")
    if body["type"] not in EventType._value2member_map_:
        problems.append(f"unknown event type {body['type']!r}")
    if body["source"] not in SERVICES:
        problems.append(f"unknown source service {body['source']!r}")
    if not _is_uuid(body["id"]):
        problems.append("id must be a UUID string")
    if not isinstance(body["data"], Mapping):
        problems.append("data must be a JSON object")
    correlation_id = body.get("correlation_id")
    if correlation_id is not None and (not isinstance(correlation_id, str) or not correlation_id):
        problems.append("correlation_id must be a non-empty string")
    try:
        _parse_time(body["occurred_at"])
    except ValueError as exc:
        problems.append(str(exc))
    return problems


def _data_problems(event_type: EventType, data: Mapping[str, Any]) -> list[str]:
    problems = []
    for name, types in EVENT_SPECS[event_type].fields.items():
        if name not in data:
            problems.append(f"data.{name} is required for {event_type.value}")
        elif not _has_type(data[name], types):
            expected = "/".join(t.__name__ for t in types)
            problems.append(f"data.{name} must be {expected}, got {type(data[name]).__name__}")
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as exc:
        problems.append(f"data is not JSON-serialisable: {exc}")
    return problems


def _has_type(value: Any, types: tuple[type, ...]) -> bool:
    # bool is an int subclass, but True is never a valid version number or count.
    if isinstance(value, bool):
        return bool in types
    return isinstance(value, types)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _format_time(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError("occurred_at must be timezone-aware")
    return moment.astimezone(UTC).isoformat()


def _parse_time(text: Any) -> datetime:
    if not isinstance(text, str):
        raise ValueError("occurred_at must be an ISO-8601 string")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"occurred_at is not ISO-8601: {text!r}") from exc
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("occurred_at must carry a UTC offset")
    return moment.astimezone(UTC)
