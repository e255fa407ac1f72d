"""Event-bus costs: bounded poll batches, fair partitions, constant work per publish and poll."""

from __future__ import annotations

from collections import Counter

import pytest

from shared.events.base import TopicPartition
from tests.utils.events import count_lines, make_memory_bus, publish_numbers

pytestmark = pytest.mark.registry


def test_poll_returns_at_most_max_records_and_every_record_once():
    bus = make_memory_bus()
    bus.create_topic("metrics", partitions=3)
    publish_numbers(bus, "metrics", 50)
    consumer = bus.subscribe("metrics", group_id="g")
    batches = [consumer.poll(max_records=7) for _ in range(9)]
    assert [len(batch) for batch in batches] == [7] * 7 + [1, 0]
    seen = Counter(event.value["n"] for batch in batches for event in batch)
    assert seen == Counter(range(50))


def test_small_polls_serve_every_partition():
    bus = make_memory_bus()
    bus.create_topic("metrics", partitions=3)
    publish_numbers(bus, "metrics", 60)
    consumer = bus.subscribe("metrics", group_id="g")
    first_partitions = [consumer.poll(max_records=5)[0].partition for _ in range(3)]
    assert sorted(first_partitions) == [0, 1, 2]


def test_publish_does_the_same_work_on_a_long_log_as_on_a_short_one():
    bus = make_memory_bus()
    bus.create_topic("short", partitions=2)
    bus.create_topic("long", partitions=2)
    publish_numbers(bus, "short", 4)
    publish_numbers(bus, "long", 3_000)
    short = count_lines(lambda: bus.publish("short", {"n": -1}, key="k"))
    long = count_lines(lambda: bus.publish("long", {"n": -1}, key="k"))
    assert short > 0
    assert long == short


def test_poll_does_the_same_work_deep_in_a_log_as_at_its_start():
    bus = make_memory_bus()
    bus.create_topic("metrics")
    publish_numbers(bus, "metrics", 3_010)
    fresh = bus.subscribe("metrics", group_id="fresh")
    deep = bus.subscribe("metrics", group_id="deep")
    fresh.poll(max_records=5)
    deep.poll(max_records=3_000)
    assert count_lines(lambda: fresh.poll(max_records=5)) == count_lines(
        lambda: deep.poll(max_records=5)
    )


def test_commit_does_the_same_work_whatever_was_consumed():
    bus = make_memory_bus()
    bus.create_topic("metrics")
    publish_numbers(bus, "metrics", 2_000)
    small = bus.subscribe("metrics", group_id="small")
    big = bus.subscribe("metrics", group_id="big")
    small.poll(max_records=2)
    big.poll(max_records=1_999)
    assert count_lines(small.commit) == count_lines(big.commit)
    assert bus.committed("big", TopicPartition("metrics", 0)) == 1_999
