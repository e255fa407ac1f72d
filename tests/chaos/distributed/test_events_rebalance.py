"""Consumer groups under failure: members leaving, crashing, rejoining, racing publishers."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from shared.events.base import CommitFailedError, TopicPartition
from tests.utils.events import ManualClock, drain, make_memory_bus, publish_numbers, values

pytestmark = pytest.mark.inference

SESSION_MS = 10_000


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def bus(clock):
    bus = make_memory_bus(clock, session_timeout_ms=SESSION_MS)
    bus.create_topic("jobs", partitions=2)
    # Keyless records alternate: partition 0 holds the even numbers, partition 1 the odd.
    publish_numbers(bus, "jobs", 10)
    return bus


def test_survivor_gets_uncommitted_records_of_a_member_that_left_exactly_once(bus):
    leaver = bus.subscribe("jobs", group_id="etl")
    survivor = bus.subscribe("jobs", group_id="etl")
    assert leaver.assignment() == {TopicPartition("jobs", 0)}
    assert values(survivor.poll(max_records=2)) == [1, 3]
    assert values(leaver.poll(max_records=2)) == [0, 2]
    leaver.commit()
    assert values(leaver.poll(max_records=2)) == [4, 6]
    leaver.close()
    received = values(drain(survivor))
    # Records no member committed before the change in membership come again, once each.
    assert Counter(received) == Counter([1, 3, 5, 7, 9, 4, 6, 8])


def test_member_keeping_its_partition_rereads_uncommitted_records_after_a_rebalance(bus):
    first = bus.subscribe("jobs", group_id="etl")
    assert sorted(values(drain(first))) == list(range(10))
    second = bus.subscribe("jobs", group_id="etl")
    assert first.assignment() == {TopicPartition("jobs", 0)}
    assert values(drain(first)) == [0, 2, 4, 6, 8]
    assert values(drain(second)) == [1, 3, 5, 7, 9]


def test_crashed_members_late_commit_is_rejected_and_its_records_redelivered(bus, clock):
    crashed = bus.subscribe("jobs", group_id="etl")
    survivor = bus.subscribe("jobs", group_id="etl")
    assert values(drain(crashed)) == [0, 2, 4, 6, 8]
    assert values(drain(survivor)) == [1, 3, 5, 7, 9]
    survivor.commit()
    clock.advance(SESSION_MS / 1000 + 1)
    assert values(drain(survivor)) == [0, 2, 4, 6, 8]
    with pytest.raises(CommitFailedError):
        crashed.commit()
    assert bus.committed("etl", TopicPartition("jobs", 0)) is None


def test_restarted_consumer_resumes_after_the_events_committed_before_a_crash(bus, clock):
    crashed = bus.subscribe("jobs", group_id="etl")
    processed = crashed.poll(max_records=4)
    crashed.commit(processed)
    assert len(crashed.poll(max_records=4)) == 4
    clock.advance(SESSION_MS / 1000 + 1)
    restarted = bus.subscribe("jobs", group_id="etl")
    assert values(processed) == [0, 2, 4, 6]
    assert sorted(values(drain(restarted))) == [1, 3, 5, 7, 8, 9]


def test_commit_fails_until_a_member_polls_after_a_rebalance(bus):
    first = bus.subscribe("jobs", group_id="etl")
    drain(first)
    bus.subscribe("jobs", group_id="etl")
    with pytest.raises(CommitFailedError):
        first.commit()
    assert values(drain(first)) == [0, 2, 4, 6, 8]
    first.commit()
    assert bus.committed("etl", TopicPartition("jobs", 0)) == 5
    assert bus.committed("etl", TopicPartition("jobs", 1)) is None


def test_commit_of_events_from_a_partition_moved_away_is_rejected(bus):
    first = bus.subscribe("jobs", group_id="etl")
    everything = drain(first)
    bus.subscribe("jobs", group_id="etl")
    first.poll()
    with pytest.raises(CommitFailedError):
        first.commit(everything)
    assert bus.committed("etl", TopicPartition("jobs", 1)) is None


def test_evicted_member_rejoins_on_its_next_poll(bus, clock):
    idle = bus.subscribe("jobs", group_id="etl")
    active = bus.subscribe("jobs", group_id="etl")
    clock.advance(SESSION_MS / 1000 + 1)
    active.poll(max_records=1)
    assert active.assignment() == {TopicPartition("jobs", 0), TopicPartition("jobs", 1)}
    assert values(drain(idle)) == [0, 2, 4, 6, 8]
    assert active.assignment() == {TopicPartition("jobs", 1)}


def test_concurrent_publishers_get_unique_gap_free_offsets():
    bus = make_memory_bus()
    bus.create_topic("metrics")
    threads_count, per_thread = 6, 25
    barrier = threading.Barrier(threads_count)
    landed: dict[int, list[int]] = {}

    def publish(worker: int) -> None:
        barrier.wait()
        landed[worker] = [
            bus.publish("metrics", {"w": worker, "i": i}).offset for i in range(per_thread)
        ]

    threads = [threading.Thread(target=publish, args=(w,)) for w in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    offsets = sorted(o for worker_offsets in landed.values() for o in worker_offsets)
    assert offsets == list(range(threads_count * per_thread))
    assert all(sorted(worker_offsets) == worker_offsets for worker_offsets in landed.values())
    events = drain(bus.subscribe("metrics", group_id="g"))
    assert [e.offset for e in events] == offsets
    assert {(e.value["w"], e.value["i"]) for e in events} == {
        (w, i) for w in range(threads_count) for i in range(per_thread)
    }


def test_a_member_silent_for_exactly_its_session_keeps_its_partitions(bus, clock):
    quiet = bus.subscribe("jobs", group_id="etl")
    busy = bus.subscribe("jobs", group_id="etl")
    drain(quiet), drain(busy)
    clock.advance(SESSION_MS / 1000)
    busy.poll(max_records=1)
    assert busy.assignment() == {TopicPartition("jobs", 1)}
    clock.advance(0.001)
    busy.poll(max_records=1)
    assert busy.assignment() == {TopicPartition("jobs", 0), TopicPartition("jobs", 1)}
