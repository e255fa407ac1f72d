"""In-memory event bus specifics: clock, copies, keyless spreading, blocking polls."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

import pytest

from shared.errors import ValidationError
from shared.events.base import TopicPartition
from tests.utils.events import ManualClock, drain, make_memory_bus, values

pytestmark = pytest.mark.registry


def test_event_timestamps_come_from_the_injected_clock():
    clock = ManualClock(1_710_054_000.0)  # 2024-03-10T07:00:00Z, 03:00 EDT just after the jump
    bus = make_memory_bus(clock)
    bus.create_topic("jobs")
    bus.publish("jobs", {"n": 0})
    clock.advance(90)
    bus.publish("jobs", {"n": 1})
    first, second = drain(bus.subscribe("jobs", group_id="g"))
    assert first.timestamp == datetime(2024, 3, 10, 7, 0, tzinfo=UTC)
    assert (second.timestamp - first.timestamp).total_seconds() == 90


def test_keyless_records_are_shared_evenly_across_partitions():
    bus = make_memory_bus()
    bus.create_topic("jobs", partitions=3)
    landed = Counter(bus.publish("jobs", {"n": n}).partition for n in range(7))
    assert set(landed) == {0, 1, 2}
    assert sorted(landed.values()) == [2, 2, 3]


def test_mutating_a_published_value_does_not_change_the_stored_event():
    bus = make_memory_bus()
    bus.create_topic("jobs")
    value = {"metrics": {"accuracy": 0.9}}
    bus.publish("jobs", value)
    value["metrics"]["accuracy"] = 0.1
    [event] = bus.subscribe("jobs", group_id="g").poll()
    assert event.value == {"metrics": {"accuracy": 0.9}}


def test_blocking_poll_returns_a_record_published_by_another_thread():
    bus = make_memory_bus()
    bus.create_topic("jobs")
    consumer = bus.subscribe("jobs", group_id="g")
    publisher = threading.Thread(target=bus.publish, args=("jobs", {"n": 7}))
    publisher.start()
    events = consumer.poll(timeout_ms=5_000)
    publisher.join()
    assert values(events) == [7]


@pytest.mark.parametrize(
    "call",
    [
        lambda bus: bus.create_topic("bad topic!"),
        lambda bus: bus.create_topic("jobs", partitions=0),
        lambda bus: bus.publish("jobs", {"n": 1}, key=42),
        lambda bus: bus.publish("jobs", {"n": 1}, headers={"x": b"bytes"}),
        lambda bus: bus.subscribe("jobs", group_id=""),
        lambda bus: bus.subscribe("jobs", group_id="g", auto_offset_reset="none"),
        lambda bus: bus.subscribe("jobs", group_id="g").poll(max_records=0),
    ],
    ids=["topic-name", "partitions", "key", "headers", "group", "reset", "max-records"],
)
def test_bad_arguments_are_validation_errors(call):
    bus = make_memory_bus()
    bus.create_topic("jobs")
    with pytest.raises(ValidationError):
        call(bus)
    assert bus.end_offset(TopicPartition("jobs", 0)) == 0


def test_a_consumer_mutating_its_event_does_not_change_what_other_groups_read():
    bus = make_memory_bus()
    bus.create_topic("jobs")
    bus.publish("jobs", {"metrics": {"accuracy": 0.9}}, headers={"trace": "t-1"})
    [first] = bus.subscribe("jobs", group_id="billing").poll()
    first.value["metrics"]["accuracy"] = 0.1
    first.headers["trace"] = "changed"
    [second] = bus.subscribe("jobs", group_id="audit").poll()
    assert second.value == {"metrics": {"accuracy": 0.9}}
    assert second.headers == {"trace": "t-1"}
