"""Event-bus adapters: the Kafka client settings and wire format, and the backend factory."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord
from kafka.partitioner.default import DefaultPartitioner
from kafka.structs import OffsetAndMetadata
from kafka.structs import TopicPartition as KafkaTopicPartition

from shared import backends
from shared.errors import ValidationError
from shared.events import kafka
from shared.events.base import Event
from shared.events.memory import InMemoryEventBus
from shared.events.schema import PLATFORM_TOPICS
from shared.infra_settings import InfraSettings

pytestmark = pytest.mark.registry


class RecordingFactory:
    """Client factory that records the settings it was called with instead of connecting."""

    def __init__(self):
        self.calls = []

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        raise AssertionError("no client may be created here")


def record(offset, key=b"iris", value=b'{"n":1}', headers=(("trace", b"t-1"),)):
    return ConsumerRecord(
        topic="models.versions",
        partition=2,
        leader_epoch=0,
        offset=offset,
        timestamp=1_710_054_000_250,
        timestamp_type=0,
        key=kafka.deserialize_key(key),
        value=kafka.decode_value(value),
        headers=list(headers),
        checksum=None,
        serialized_key_size=len(key),
        serialized_value_size=len(value),
        serialized_header_size=-1,
    )


@pytest.fixture
def factories():
    return RecordingFactory(), RecordingFactory(), RecordingFactory()


@pytest.fixture
def kafka_bus(factories, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the Kafka adapter opened a socket")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    admin, producer, consumer = factories
    return kafka.KafkaEventBus(
        "broker-1:9092",
        admin_factory=admin,
        producer_factory=producer,
        consumer_factory=consumer,
    )


def test_constructing_a_kafka_bus_creates_no_client(kafka_bus, factories):
    assert kafka_bus.bootstrap_servers == ["broker-1:9092"]
    assert [f.calls for f in factories] == [[], [], []]


def test_invalid_publish_is_rejected_before_any_client_is_created(kafka_bus, factories):
    with pytest.raises(ValidationError):
        kafka_bus.publish("jobs", {"at": datetime.now(UTC)})
    with pytest.raises(ValidationError):
        kafka_bus.create_topic("jobs", partitions=0)
    assert [f.calls for f in factories] == [[], [], []]


def test_producer_settings_are_real_kafka_settings_and_wait_for_all_replicas(kafka_bus):
    settings = kafka_bus.producer_config()
    assert set(settings) <= set(KafkaProducer.DEFAULT_CONFIG)
    assert settings["acks"] == "all"
    assert settings["key_serializer"]("iris") == b"iris"
    assert settings["value_serializer"]({"b": 1, "a": [True, None]}) == b'{"a":[true,null],"b":1}'


def test_consumer_settings_commit_manually_with_short_sessions(kafka_bus):
    settings = kafka_bus.consumer_config("etl", "latest")
    assert set(settings) <= set(KafkaConsumer.DEFAULT_CONFIG)
    assert settings["group_id"] == "etl"
    assert settings["auto_offset_reset"] == "latest"
    assert settings["enable_auto_commit"] is False
    assert settings["session_timeout_ms"] <= 10_000
    assert settings["request_timeout_ms"] > settings["session_timeout_ms"]
    with pytest.raises(ValidationError):
        kafka_bus.consumer_config("etl", "none")


def test_kafka_records_convert_to_port_events():
    event = kafka.to_event(record(41))
    assert event == Event(
        topic="models.versions",
        partition=2,
        offset=41,
        key="iris",
        value={"n": 1},
        headers={"trace": "t-1"},
        timestamp=datetime(2024, 3, 10, 7, 0, 0, 250_000, tzinfo=UTC),
    )


def test_headers_and_keyless_records_survive_the_wire_format():
    assert kafka.encode_headers({"trace": "t-1", "ü": "é"}) == [
        ("trace", b"t-1"),
        ("ü", "é".encode()),
    ]
    assert kafka.decode_headers([("trace", b"t-1"), ("empty", None)]) == {
        "trace": "t-1",
        "empty": "",
    }
    assert kafka.serialize_key(None) is None
    assert kafka.deserialize_key(None) is None


def test_kafka_commit_resumes_after_the_last_processed_event():
    events = [kafka.to_event(record(offset)) for offset in (7, 8, 9)]
    assert kafka.commit_offsets(events) == {
        KafkaTopicPartition("models.versions", 2): OffsetAndMetadata(10, "", -1)
    }


def test_create_bus_builds_the_configured_backend():
    memory = backends.create("events", "memory")
    assert isinstance(memory, InMemoryEventBus)
    assert memory.list_topics() == sorted(PLATFORM_TOPICS)
    remote = backends.create(
        "events", settings=InfraSettings(events_backend="kafka", kafka_bootstrap="ka:9092, kb:9092")
    )
    assert isinstance(remote, kafka.KafkaEventBus)
    assert remote.bootstrap_servers == ["ka:9092", "kb:9092"]
    assert sorted(backends.BACKENDS["events"]) == ["kafka", "memory"]


@pytest.mark.parametrize("settings", [{"events_backend": "rabbitmq"}, {"events_backend": ""}])
def test_create_bus_rejects_unknown_backends_and_settings(settings):
    with pytest.raises(ValidationError, match="EVENTS_BACKEND must be one of kafka, memory"):
        backends.create("events", settings=InfraSettings(**settings))


def test_get_bus_reads_the_environment_once_until_reset(monkeypatch):
    monkeypatch.setenv("SYNAPSE_EVENTS_BACKEND", "memory")
    backends.reset_backends()
    try:
        bus = backends.get_bus()
        assert isinstance(bus, InMemoryEventBus)
        assert backends.get_bus() is bus
        backends.reset_backends()
        assert backends.get_bus() is not bus
    finally:
        backends.reset_backends()


def test_in_memory_bus_puts_each_key_where_kafka_would():
    bus = InMemoryEventBus()
    bus.create_topic("features.updates", partitions=5)
    reference = DefaultPartitioner()
    for key in ("user_stats", "item_embeddings", "sessions-7d", "ctr", "z"):
        expected = reference(key.encode("utf-8"), [0, 1, 2, 3, 4], [0, 1, 2, 3, 4])
        assert bus.publish("features.updates", {"view": key}, key=key).partition == expected


def test_producer_retries_cannot_reorder_records_of_one_key(kafka_bus):
    # A retried batch may not overtake a later one: one request in flight while retries are on.
    settings = kafka_bus.producer_config()
    assert settings["retries"] > 0
    assert settings["max_in_flight_requests_per_connection"] == 1
