"""Event-bus contract: pub/sub flows every EventBus implementation must honour."""

from __future__ import annotations

import pytest
from kafka.partitioner.default import DefaultPartitioner

from shared.errors import ConflictError, ValidationError
from shared.events.base import ConsumerClosedError, TopicPartition, UnknownTopicError
from tests.utils.events import BUS_FACTORIES, drain, publish_numbers, values

pytestmark = pytest.mark.registry


@pytest.fixture(params=sorted(BUS_FACTORIES))
def bus(request):
    bus = BUS_FACTORIES[request.param]()
    yield bus
    bus.close()


def kafka_partition(key: str, partitions: int) -> int:
    """Return the partition kafka-python's own producer picks for ``key``."""
    every = list(range(partitions))
    return DefaultPartitioner()(key.encode("utf-8"), every, every)


def test_creating_an_existing_topic_with_the_same_partitions_is_a_no_op(bus):
    bus.create_topic("jobs", partitions=3)
    bus.publish("jobs", {"n": 1}, key="a")
    bus.create_topic("jobs", partitions=3)
    assert bus.list_topics() == ["jobs"]
    assert bus.partition_count("jobs") == 3
    consumer = bus.subscribe("jobs", group_id="g")
    assert values(drain(consumer)) == [1]


def test_creating_an_existing_topic_with_other_partitions_conflicts(bus):
    bus.create_topic("jobs", partitions=3)
    with pytest.raises(ConflictError):
        bus.create_topic("jobs", partitions=4)
    assert bus.partition_count("jobs") == 3


def test_publishing_to_a_missing_topic_raises_unknown_topic(bus):
    with pytest.raises(UnknownTopicError) as info:
        bus.publish("never-created", {"n": 1})
    assert info.value.status_code == 404
    assert "never-created" not in bus.list_topics()


def test_offsets_are_per_partition_and_start_at_zero(bus):
    bus.create_topic("jobs", partitions=2)
    keys = ["iris", "churn", "fraud", "ranker", "ctr", "ltv"]
    landed = [bus.publish("jobs", {"key": k}, key=k) for k in keys]
    for partition in (0, 1):
        offsets = [m.offset for m in landed if m.partition == partition]
        assert offsets == list(range(len(offsets)))


def test_keyed_records_land_where_a_kafka_producer_puts_them(bus):
    bus.create_topic("models.versions", partitions=6)
    keys = ["iris", "churn", "fraud-v2", "résumé-ranker", "a", "model-0042", "21", "abc"]
    landed = {key: bus.publish("models.versions", {"k": key}, key=key).partition for key in keys}
    assert landed == {key: kafka_partition(key, 6) for key in keys}


def test_records_with_one_key_are_consumed_in_publish_order(bus):
    bus.create_topic("jobs", partitions=4)
    models = ["iris", "churn", "fraud"]
    for n in range(12):
        bus.publish("jobs", {"n": n}, key=models[n % 3])
    events = drain(bus.subscribe("jobs", group_id="g"))
    for index, model in enumerate(models):
        assert [e.value["n"] for e in events if e.key == model] == list(range(index, 12, 3))


def test_consumed_event_carries_topic_key_value_and_headers(bus):
    bus.create_topic("jobs")
    headers = {"x-correlation-id": "c-1", "content-type": "application/json"}
    meta = bus.publish("jobs", {"job": "job-7", "nested": {"xs": [1, 2.5, None]}}, "job-7", headers)
    [event] = bus.subscribe("jobs", group_id="g").poll()
    assert (event.topic, event.partition, event.offset) == (meta.topic, meta.partition, 0)
    assert event.key == "job-7"
    assert event.value == {"job": "job-7", "nested": {"xs": [1, 2.5, None]}}
    assert event.headers == headers
    assert event.timestamp.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("value", [["not", "an", "object"], {"t": {1, 2}}, {"x": float("nan")}])
def test_values_that_are_not_json_objects_are_rejected(bus, value):
    bus.create_topic("jobs")
    with pytest.raises(ValidationError):
        bus.publish("jobs", value)
    assert drain(bus.subscribe("jobs", group_id="g")) == []


def test_a_new_member_resumes_from_the_groups_committed_offset(bus):
    bus.create_topic("jobs")
    publish_numbers(bus, "jobs", 5)
    first = bus.subscribe("jobs", group_id="etl")
    assert values(first.poll(max_records=3)) == [0, 1, 2]
    first.commit()
    first.close()
    second = bus.subscribe("jobs", group_id="etl")
    assert values(drain(second)) == [3, 4]


def test_committing_processed_events_resumes_after_the_last_one(bus):
    bus.create_topic("jobs")
    publish_numbers(bus, "jobs", 6)
    first = bus.subscribe("jobs", group_id="etl")
    batch = first.poll(max_records=6)
    first.commit(batch[:4])
    assert first.committed(TopicPartition("jobs", 0)) == 4
    first.close()
    assert values(drain(bus.subscribe("jobs", group_id="etl"))) == [4, 5]


def test_groups_consume_independently(bus):
    bus.create_topic("jobs")
    publish_numbers(bus, "jobs", 4)
    billing = bus.subscribe("jobs", group_id="billing")
    audit = bus.subscribe("jobs", group_id="audit")
    assert values(drain(billing)) == [0, 1, 2, 3]
    billing.commit()
    assert values(drain(audit)) == [0, 1, 2, 3]
    assert audit.committed(TopicPartition("jobs", 0)) is None


def test_latest_reset_skips_records_published_before_the_first_poll(bus):
    bus.create_topic("jobs")
    publish_numbers(bus, "jobs", 3)
    consumer = bus.subscribe("jobs", group_id="tail", auto_offset_reset="latest")
    assert consumer.poll() == []
    bus.publish("jobs", {"n": 99})
    assert values(drain(consumer)) == [99]


def test_group_members_split_partitions_without_overlap(bus):
    bus.create_topic("jobs", partitions=5)
    a = bus.subscribe("jobs", group_id="g")
    b = bus.subscribe("jobs", group_id="g")
    a.poll()
    b.poll()
    assigned_a, assigned_b = a.assignment(), b.assignment()
    assert assigned_a.isdisjoint(assigned_b)
    assert assigned_a | assigned_b == {TopicPartition("jobs", p) for p in range(5)}
    assert sorted([len(assigned_a), len(assigned_b)]) == [2, 3]


def test_a_closed_consumer_refuses_to_poll(bus):
    bus.create_topic("jobs")
    consumer = bus.subscribe("jobs", group_id="g")
    consumer.close()
    with pytest.raises(ConsumerClosedError):
        consumer.poll()
    assert consumer.assignment() == set()
