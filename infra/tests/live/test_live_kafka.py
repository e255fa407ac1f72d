"""Event bus on the real Kafka-protocol broker: explicit topics, produce/consume, group rejoin.

Joining a new consumer group takes the broker about a second, so the group tests are the
slowest of the lane; sessions are short and every group id is unique.
"""

from __future__ import annotations

import time

import pytest
from kafka.partitioner.default import murmur2

from infra.tests.live.support import unique
from shared.bootstrap.steps import bootstrap_kafka
from shared.errors import ConflictError
from shared.events.base import TopicPartition, UnknownTopicError
from shared.events.kafka import KafkaEventBus


@pytest.fixture(scope="module")
def bus(infra_settings):
    bus = KafkaEventBus(
        infra_settings.kafka_servers(),
        client_id=unique("synapse-live"),
        session_timeout_ms=1_000,
        heartbeat_interval_ms=100,
    )
    yield bus
    bus.close()


@pytest.fixture
def topic(bus):
    name = unique("live.jobs")
    bus.create_topic(name, 2)
    return name


def read(consumer, count: int, within: float = 5.0) -> list:
    """Poll until count events arrived or the time is up (the broker pushes asynchronously)."""
    events, deadline = [], time.monotonic() + within
    while len(events) < count and time.monotonic() < deadline:
        events += consumer.poll(timeout_ms=50)
    return events


def test_publishing_to_a_topic_never_created_is_refused(bus):
    name = unique("never.created")
    with pytest.raises(UnknownTopicError):
        bus.publish(name, {"n": 1})
    assert name not in bus.list_topics()


def test_bootstrap_creates_topics_with_their_partitions(bus):
    topics = {unique("live.models"): 3, unique("live.alerts"): 1}
    assert bootstrap_kafka(bus, topics) == list(topics)
    assert bootstrap_kafka(bus, topics) == []
    assert {name: bus.partition_count(name) for name in topics} == topics


def test_creating_a_topic_again_with_other_partitions_conflicts(bus, topic):
    bus.create_topic(topic, 2)
    with pytest.raises(ConflictError):
        bus.create_topic(topic, 4)


def test_keyed_records_land_on_kafkas_default_partition_in_order(bus, topic):
    landed = [bus.publish(topic, {"n": n}, key="iris") for n in range(3)]
    expected = (murmur2(b"iris") & 0x7FFFFFFF) % 2
    assert {m.partition for m in landed} == {expected}
    assert [m.offset for m in landed] == [0, 1, 2]


def test_produced_events_are_consumed_with_key_headers_and_utc_time(bus, topic):
    bus.publish(topic, {"job": "j-1"}, key="churn", headers={"trace": "t-9"})
    consumer = bus.subscribe(topic, group_id=unique("g"))
    try:
        [event] = read(consumer, 1)
    finally:
        consumer.close()
    assert (event.value, event.key, event.headers) == ({"job": "j-1"}, "churn", {"trace": "t-9"})
    assert event.timestamp.utcoffset().total_seconds() == 0


def test_a_rejoining_group_resumes_from_its_committed_offsets(bus, topic):
    for n in range(6):
        bus.publish(topic, {"n": n}, key=f"k{n}")
    group = unique("g")
    first = bus.subscribe(topic, group_id=group)
    events = read(first, 6)
    done = [next(e for e in events if e.partition == p) for p in (0, 1)]
    first.commit(done)
    assert first.committed(TopicPartition(topic, 0)) == done[0].offset + 1
    first.close()
    second = bus.subscribe(topic, group_id=group)
    try:
        again = read(second, 4)
    finally:
        second.close()
    assert sorted(e.value["n"] for e in again) == sorted(
        e.value["n"] for e in events if e not in done
    )
