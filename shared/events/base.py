"""Event-bus port: the interface every bus adapter implements, with its records and errors."""

from __future__ import annotations

import abc
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from shared.errors import ConflictError, NotFoundError, ValidationError

OFFSET_RESETS = ("earliest", "latest")
DEFAULT_MAX_RECORDS = 500
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")


class UnknownTopicError(NotFoundError):
    """Raised when publishing to or subscribing to a topic that was never created."""

    code = "unknown_topic"


class CommitFailedError(ConflictError):
    """Raised when a member commits after its group rebalanced or it was evicted."""

    code = "commit_failed"


class ConsumerClosedError(ConflictError):
    """Raised when a closed consumer is used."""

    code = "consumer_closed"


class TopicPartition(NamedTuple):
    """One partition of a topic."""

    topic: str
    partition: int


@dataclass(frozen=True)
class RecordMetadata:
    """Where a published record landed."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class Event:
    """One record read from a topic partition."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    timestamp: datetime | None = None

    @property
    def topic_partition(self) -> TopicPartition:
        """Return the partition this record was read from."""
        return TopicPartition(self.topic, self.partition)


def validate_topic_name(name: str) -> str:
    """Return the topic name, or raise ValidationError when Kafka would reject it."""
    if not isinstance(name, str) or not _TOPIC_NAME.match(name) or name in (".", ".."):
        raise ValidationError(f"invalid topic name {name!r}", details={"topic": name})
    return name


def validate_partitions(partitions: int) -> int:
    """Return the partition count, or raise ValidationError when it is not a positive int."""
    if isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1:
        raise ValidationError(f"partitions must be a positive integer, got {partitions!r}")
    return partitions


def validate_offset_reset(auto_offset_reset: str) -> str:
    """Return the reset policy, or raise ValidationError for anything but earliest/latest."""
    if auto_offset_reset not in OFFSET_RESETS:
        raise ValidationError(f"auto_offset_reset must be one of {OFFSET_RESETS}")
    return auto_offset_reset


def validate_max_records(max_records: int) -> int:
    """Return max_records, or raise ValidationError when it is not a positive int."""
    if isinstance(max_records, bool) or not isinstance(max_records, int) or max_records < 1:
        raise ValidationError(f"max_records must be a positive integer, got {max_records!r}")
    return max_records


def encode_value(value: Mapping[str, Any]) -> bytes:
    """Serialise a record value (a JSON object) to UTF-8 bytes."""
    if not isinstance(value, Mapping):
        raise ValidationError(f"event value must be a JSON object, got {type(value).__name__}")
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"event value is not JSON-serialisable: {exc}") from exc
    return text.encode("utf-8")


def decode_value(data: bytes) -> dict[str, Any]:
    """Deserialise record bytes written by encode_value."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationError(f"record value is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ValidationError("record value is not a JSON object")
    return value


def normalise_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Return a copy of the headers, or raise ValidationError unless all are str to str."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise ValidationError("headers must be a mapping of str to str")
    for name, text in headers.items():
        if not isinstance(name, str) or not isinstance(text, str):
            raise ValidationError("headers must be a mapping of str to str")
    return dict(headers)


def validate_key(key: str | None) -> str | None:
    """Return the record key, or raise ValidationError when it is neither None nor a str."""
    if key is not None and not isinstance(key, str):
        raise ValidationError(f"event key must be a string, got {type(key).__name__}")
    return key


def next_offsets(events: Iterable[Event]) -> dict[TopicPartition, int]:
    """Return, per partition, the offset to resume from once these events are processed."""
    offsets: dict[TopicPartition, int] = {}
    for event in events:
        tp = event.topic_partition
        offsets[tp] = max(offsets.get(tp, 0), event.offset + 1)
    return offsets


class Consumer(abc.ABC):
    """A member of a consumer group, reading the partitions the group assigns to it."""

    @abc.abstractmethod
    def poll(self, max_records: int = DEFAULT_MAX_RECORDS, timeout_ms: int = 0) -> list[Event]:
        """Return up to max_records new events, waiting up to timeout_ms when none are ready."""

    @abc.abstractmethod
    def commit(self, events: Iterable[Event] | None = None) -> None:
        """Commit the group's offsets: past every polled event, or past the given events."""

    @abc.abstractmethod
    def committed(self, tp: TopicPartition) -> int | None:
        """Return the group's committed offset for a partition (next offset to read), if any."""

    @abc.abstractmethod
    def assignment(self) -> set[TopicPartition]:
        """Return the partitions currently assigned to this member."""

    @abc.abstractmethod
    def close(self) -> None:
        """Leave the group without committing; the group rebalances its partitions."""

    def __enter__(self) -> Consumer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class EventBus(abc.ABC):
    """A partitioned, ordered log of JSON events with consumer groups (Kafka semantics)."""

    @abc.abstractmethod
    def create_topic(self, name: str, partitions: int = 1) -> None:
        """Create a topic; a no-op when it exists with that many partitions, else ConflictError."""

    @abc.abstractmethod
    def list_topics(self) -> list[str]:
        """Return the names of all topics, sorted."""

    @abc.abstractmethod
    def partition_count(self, topic: str) -> int:
        """Return the number of partitions of a topic, or raise UnknownTopicError."""

    @abc.abstractmethod
    def publish(
        self,
        topic: str,
        value: Mapping[str, Any],
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> RecordMetadata:
        """Append one event to a topic and return where it landed."""

    @abc.abstractmethod
    def subscribe(
        self,
        topics: Sequence[str] | str,
        group_id: str,
        auto_offset_reset: str = "earliest",
    ) -> Consumer:
        """Join group_id as a new member reading the given topics."""

    def close(self) -> None:
        """Release the bus's connections; the default holds none."""
        return None
