"""Held-out: time conversion and Kafka defaults on other zones, dates and servers."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from shared.events import kafka
from shared.utils.timeutils import isoformat, to_utc

pytestmark = pytest.mark.gateway


def test_to_utc_converts_zones_east_and_west_of_utc():
    tokyo = datetime(2023, 11, 5, 9, 15, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert to_utc(tokyo) == datetime(2023, 11, 5, 0, 15, tzinfo=UTC)
    assert to_utc(tokyo).tzinfo == UTC
    fixed = datetime(2022, 1, 31, 23, 0, tzinfo=timezone(timedelta(hours=-3, minutes=-30)))
    assert isoformat(fixed) == "2022-02-01T02:30:00Z"


class _Unused:
    def __call__(self, *args, **kwargs):
        raise AssertionError("no client may be created")


def test_kafka_bus_defaults_keep_three_heartbeats_per_session_for_any_servers(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _Unused())
    for servers in (["k1:9092", "k2:9092"], "localhost:19092"):
        bus = kafka.KafkaEventBus(
            servers, admin_factory=_Unused(), producer_factory=_Unused(), consumer_factory=_Unused()
        )
        config = bus.consumer_config("grp", "earliest")
        assert config["heartbeat_interval_ms"] * 3 <= config["session_timeout_ms"]


def test_in_memory_partitions_match_kafka_for_other_keys_and_counts():
    from kafka.partitioner.default import DefaultPartitioner

    from shared.events.memory import InMemoryEventBus

    reference = DefaultPartitioner()
    bus = InMemoryEventBus()
    for count in (2, 7, 12):
        bus.create_topic(f"t{count}", partitions=count)
        ids = list(range(count))
        for key in ("model-42", "émbedding", "a", "user:9001", "0"):
            want = reference(key.encode("utf-8"), ids, ids)
            assert bus.publish(f"t{count}", {"k": key}, key=key).partition == want
