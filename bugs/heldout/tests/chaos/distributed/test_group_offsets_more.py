"""Held-out: committed offsets and rebalances on other partition counts and batch sizes."""

from __future__ import annotations

from collections import Counter

import pytest

from shared.events.base import TopicPartition
from tests.utils.events import ManualClock, drain, make_memory_bus, publish_numbers, values

pytestmark = pytest.mark.inference


def test_committing_seven_of_nine_records_resumes_the_group_at_the_eighth():
    bus = make_memory_bus()
    bus.create_topic("audit")
    publish_numbers(bus, "audit", 9)
    first = bus.subscribe("audit", group_id="ledger")
    batch = first.poll(max_records=9)
    first.commit(batch[:7])
    assert first.committed(TopicPartition("audit", 0)) == 7
    first.close()
    assert values(drain(bus.subscribe("audit", group_id="ledger"))) == [7, 8]


def test_third_member_joining_three_partitions_leaves_every_uncommitted_record_read_once_more():
    bus = make_memory_bus(ManualClock(), session_timeout_ms=10_000)
    bus.create_topic("clicks", partitions=3)
    publish_numbers(bus, "clicks", 12)
    first = bus.subscribe("clicks", group_id="sessionise")
    second = bus.subscribe("clicks", group_id="sessionise")
    seen_before = values(drain(first)) + values(drain(second))
    assert sorted(seen_before) == list(range(12))
    third = bus.subscribe("clicks", group_id="sessionise")
    after = values(drain(first)) + values(drain(second)) + values(drain(third))
    assert Counter(after) == Counter(range(12))
