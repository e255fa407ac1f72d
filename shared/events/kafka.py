"""Kafka adapter of the event-bus port, on kafka-python; clients are created on first use."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import kafka.errors as kafka_errors
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.consumer.fetcher import ConsumerRecord
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.structs import OffsetAndMetadata
from kafka.structs import TopicPartition as KafkaTopicPartition

from shared.errors import ConflictError, ServiceUnavailableError, ValidationError
from shared.events.base import (
    DEFAULT_MAX_RECORDS,
    CommitFailedError,
    Consumer,
    ConsumerClosedError,
    Event,
    EventBus,
    RecordMetadata,
    TopicPartition,
    UnknownTopicError,
    decode_value,
    encode_value,
    next_offsets,
    normalise_headers,
    validate_key,
    validate_max_records,
    validate_offset_reset,
    validate_partitions,
    validate_topic_name,
)


def serialize_key(key: str | None) -> bytes | None:
    """Encode a record key as UTF-8 (None stays None, so Kafka spreads keyless records)."""
    return None if key is None else key.encode("utf-8")


def deserialize_key(data: bytes | None) -> str | None:
    """Decode a record key written by serialize_key."""
    return None if data is None else data.decode("utf-8")


def encode_headers(headers: Mapping[str, str] | None) -> list[tuple[str, bytes]]:
    """Return headers in kafka-python's wire form: (name, UTF-8 bytes) pairs."""
    return [(name, text.encode("utf-8")) for name, text in normalise_headers(headers).items()]


def decode_headers(headers: Iterable[tuple[str, bytes | None]] | None) -> dict[str, str]:
    """Return kafka-python's header pairs as a str-to-str dict."""
    return {name: (data or b"").decode("utf-8") for name, data in headers or ()}


def to_event(record: ConsumerRecord) -> Event:
    """Convert a kafka-python record (already deserialised) into a port Event."""
    return Event(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value,
        headers=decode_headers(record.headers),
        timestamp=(
            datetime.fromtimestamp(record.timestamp / 1000, UTC) if record.timestamp >= 0 else None
        ),
    )


def commit_offsets(events: Iterable[Event]) -> dict[KafkaTopicPartition, OffsetAndMetadata]:
    """Return kafka-python's commit argument for resuming after the given events."""
    return {
        KafkaTopicPartition(tp.topic, tp.partition): OffsetAndMetadata(offset, "", -1)
        for tp, offset in next_offsets(events).items()
    }


class KafkaEventConsumer(Consumer):
    """A group member backed by a KafkaConsumer with manual commits."""

    def __init__(self, consumer: KafkaConsumer) -> None:
        self._consumer = consumer
        self._closed = False

    def poll(self, max_records: int = DEFAULT_MAX_RECORDS, timeout_ms: int = 0) -> list[Event]:
        """Return up to max_records new events, waiting up to timeout_ms when none are ready."""
        self._ensure_open()
        batches = self._consumer.poll(
            timeout_ms=max(timeout_ms, 0), max_records=validate_max_records(max_records)
        )
        return [to_event(record) for tp in sorted(batches) for record in batches[tp]]

    def commit(self, events: Iterable[Event] | None = None) -> None:
        """Commit the group's offsets: past every polled event, or past the given events."""
        self._ensure_open()
        offsets = None if events is None else commit_offsets(events)
        try:
            self._consumer.commit(offsets)
        except kafka_errors.CommitFailedError as exc:
            raise CommitFailedError(str(exc)) from exc

    def committed(self, tp: TopicPartition) -> int | None:
        """Return the group's committed offset for a partition (next offset to read), if any."""
        self._ensure_open()
        offset: int | None = self._consumer.committed(KafkaTopicPartition(tp.topic, tp.partition))
        return offset

    def assignment(self) -> set[TopicPartition]:
        """Return the partitions currently assigned to this member."""
        if self._closed:
            return set()
        return {TopicPartition(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    def close(self) -> None:
        """Leave the group without committing; the group rebalances its partitions."""
        if not self._closed:
            self._closed = True
            self._consumer.close(autocommit=False)

    def _ensure_open(self) -> None:
        if self._closed:
            raise ConsumerClosedError("consumer is closed")


class KafkaEventBus(EventBus):
    """Event bus on a Kafka cluster; admin and producer clients connect on first use."""

    def __init__(
        self,
        bootstrap_servers: str | Sequence[str] = "localhost:9092",
        *,
        client_id: str = "synapsenet",
        replication_factor: int = 1,
        session_timeout_ms: int = 6_000,
        heartbeat_interval_ms: int = 1_000,
        request_timeout_ms: int = 15_000,
        max_block_ms: int = 5_000,
        admin_factory: Callable[..., Any] = KafkaAdminClient,
        producer_factory: Callable[..., Any] = KafkaProducer,
        consumer_factory: Callable[..., Any] = KafkaConsumer,
    ) -> None:
        if heartbeat_interval_ms * 3 > session_timeout_ms:
            raise ValidationError("heartbeat_interval_ms must be at most a third of the session")
        servers = [bootstrap_servers] if isinstance(bootstrap_servers, str) else bootstrap_servers
        self.bootstrap_servers = list(servers)
        self.client_id = client_id
        self.replication_factor = replication_factor
        self.session_timeout_ms = session_timeout_ms
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.request_timeout_ms = request_timeout_ms
        self.max_block_ms = max_block_ms
        self._factories = (admin_factory, producer_factory, consumer_factory)
        self._lock = threading.Lock()
        self._admin: Any = None
        self._producer: Any = None
        self._known_topics: set[str] = set()

    def admin_config(self) -> dict[str, Any]:
        """Return the KafkaAdminClient settings."""
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "client_id": f"{self.client_id}-admin",
            "request_timeout_ms": self.request_timeout_ms,
        }

    def producer_config(self) -> dict[str, Any]:
        """Return the KafkaProducer settings: acks from all in-sync replicas, JSON values."""
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "client_id": f"{self.client_id}-producer",
            "acks": "all",
            "retries": 5,
            "max_in_flight_requests_per_connection": 1,
            "request_timeout_ms": self.request_timeout_ms,
            "max_block_ms": self.max_block_ms,
            "key_serializer": serialize_key,
            "value_serializer": encode_value,
        }

    def consumer_config(self, group_id: str, auto_offset_reset: str) -> dict[str, Any]:
        """Return the KafkaConsumer settings: manual commits, short sessions, range assignment."""
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "client_id": f"{self.client_id}-consumer",
            "group_id": group_id,
            "auto_offset_reset": validate_offset_reset(auto_offset_reset),
            "enable_auto_commit": False,
            "session_timeout_ms": self.session_timeout_ms,
            "heartbeat_interval_ms": self.heartbeat_interval_ms,
            "max_poll_interval_ms": max(self.session_timeout_ms, 60_000),
            "request_timeout_ms": max(self.request_timeout_ms, self.session_timeout_ms + 1_000),
            "partition_assignment_strategy": (RangePartitionAssignor,),
            "key_deserializer": deserialize_key,
            "value_deserializer": decode_value,
        }

    def create_topic(self, name: str, partitions: int = 1) -> None:
        """Create a topic; a no-op when it exists with that many partitions, else ConflictError."""
        validate_topic_name(name)
        validate_partitions(partitions)
        topic = NewTopic(name, partitions, self.replication_factor)
        try:
            self._admin_client().create_topics([topic])
        except kafka_errors.TopicAlreadyExistsError:
            existing = self.partition_count(name)
            if existing != partitions:
                raise ConflictError(
                    f"topic {name!r} exists with {existing} partitions, not {partitions}",
                    details={"topic": name, "partitions": existing},
                ) from None
        except kafka_errors.KafkaError as exc:
            raise ServiceUnavailableError(f"could not create topic {name!r}: {exc}") from exc
        self._known_topics.add(name)

    def list_topics(self) -> list[str]:
        """Return the names of all topics, sorted (Kafka's internal topics excluded)."""
        return sorted(t for t in self._admin_client().list_topics() if not t.startswith("__"))

    def partition_count(self, topic: str) -> int:
        """Return the number of partitions of a topic, or raise UnknownTopicError."""
        described = self._admin_client().describe_topics([topic])
        info = next((t for t in described if t.get("topic") == topic), None)
        if info is None or info.get("error_code") or not info.get("partitions"):
            raise UnknownTopicError(
                f"topic {topic!r} does not exist; create it first (auto-creation is off)",
                details={"topic": topic},
            )
        return len(info["partitions"])

    def publish(
        self,
        topic: str,
        value: Mapping[str, Any],
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> RecordMetadata:
        """Append one event to a topic and return where it landed (waits for all replicas)."""
        encode_value(value)
        key = validate_key(key)
        wire_headers = encode_headers(headers)
        self._require_topic(topic)
        try:
            future = self._producer_client().send(
                topic, value=dict(value), key=key, headers=wire_headers
            )
            metadata = future.get(timeout=self.request_timeout_ms / 1000)
        except kafka_errors.KafkaError as exc:
            raise ServiceUnavailableError(f"could not publish to {topic!r}: {exc}") from exc
        return RecordMetadata(metadata.topic, metadata.partition, metadata.offset)

    def subscribe(
        self,
        topics: Sequence[str] | str,
        group_id: str,
        auto_offset_reset: str = "earliest",
    ) -> KafkaEventConsumer:
        """Join group_id as a new member reading the given topics."""
        names = [topics] if isinstance(topics, str) else list(dict.fromkeys(topics))
        if not names:
            raise ValidationError("subscribe needs at least one topic")
        if not isinstance(group_id, str) or not group_id:
            raise ValidationError("group_id must be a non-empty string")
        config = self.consumer_config(group_id, auto_offset_reset)
        for name in names:
            self._require_topic(name)
        return KafkaEventConsumer(self._factories[2](*names, **config))

    def close(self) -> None:
        """Flush and close the producer and the admin client, if they were created."""
        with self._lock:
            producer, admin = self._producer, self._admin
            self._producer = self._admin = None
        if producer is not None:
            producer.close()
        if admin is not None:
            admin.close()

    def _require_topic(self, topic: str) -> None:
        if topic not in self._known_topics:
            self.partition_count(topic)
            self._known_topics.add(topic)

    def _admin_client(self) -> Any:
        with self._lock:
            if self._admin is None:
                self._admin = self._factories[0](**self.admin_config())
            return self._admin

    def _producer_client(self) -> Any:
        with self._lock:
            if self._producer is None:
                self._producer = self._factories[1](**self.producer_config())
            return self._producer
