"""In-process event bus with Kafka's semantics: partitions, offsets and consumer groups."""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from shared.errors import ConflictError, ValidationError
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
from shared.events.groups import GroupState, Member
from shared.events.partitioner import partition_for_key


class _Stored(NamedTuple):
    """A record as the log keeps it: metadata plus the serialised value, as a broker would."""

    event: Event
    data: bytes

    def deliver(self) -> Event:
        """Return a fresh copy for one consumer, so consumers never share mutable values."""
        return dataclasses.replace(
            self.event, value=decode_value(self.data), headers=dict(self.event.headers)
        )


class InMemoryConsumer(Consumer):
    """A group member of an InMemoryEventBus; every call goes through the bus's lock."""

    def __init__(self, bus: InMemoryEventBus, group_id: str, member: Member) -> None:
        self.bus = bus
        self.group_id = group_id
        self.member_id = member.member_id
        self.topics = member.topics
        self.auto_offset_reset = member.auto_offset_reset
        self.generation = 0
        self.closed = False
        self.cursor = 0

    def poll(self, max_records: int = DEFAULT_MAX_RECORDS, timeout_ms: int = 0) -> list[Event]:
        """Return up to max_records new events, waiting up to timeout_ms when none are ready."""
        return self.bus._poll(self, validate_max_records(max_records), timeout_ms)

    def commit(self, events: Iterable[Event] | None = None) -> None:
        """Commit the group's offsets: past every polled event, or past the given events."""
        self.bus._commit(self, None if events is None else list(events))

    def committed(self, tp: TopicPartition) -> int | None:
        """Return the group's committed offset for a partition (next offset to read), if any."""
        return self.bus.committed(self.group_id, tp)

    def assignment(self) -> set[TopicPartition]:
        """Return the partitions currently assigned to this member."""
        return self.bus._assignment(self)

    def close(self) -> None:
        """Leave the group without committing; the group rebalances its partitions."""
        self.bus._leave(self)


class InMemoryEventBus(EventBus):
    """Topics, partition logs and consumer groups held in memory behind one lock.

    Keyed records go to Kafka's default partition for the key; keyless records are spread
    over the partitions. Members that neither poll nor commit within the session timeout
    (measured with the injected clock) are evicted, which rebalances their group.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        session_timeout_ms: int = 10_000,
    ) -> None:
        self._clock = clock
        self._session_timeout = session_timeout_ms / 1000
        self._lock = threading.RLock()
        self._records_ready = threading.Condition(self._lock)
        self._logs: dict[str, list[list[_Stored]]] = {}
        self._next_keyless: dict[str, int] = {}
        self._groups: dict[str, GroupState] = {}
        self._member_ids = itertools.count(1)

    def create_topic(self, name: str, partitions: int = 1) -> None:
        """Create a topic; a no-op when it exists with that many partitions, else ConflictError."""
        validate_topic_name(name)
        validate_partitions(partitions)
        with self._lock:
            existing = self._logs.get(name)
            if existing is None:
                self._logs[name] = [[] for _ in range(partitions)]
                self._next_keyless[name] = 0
            elif len(existing) != partitions:
                raise ConflictError(
                    f"topic {name!r} exists with {len(existing)} partitions, not {partitions}",
                    details={"topic": name, "partitions": len(existing)},
                )

    def list_topics(self) -> list[str]:
        """Return the names of all topics, sorted."""
        with self._lock:
            return sorted(self._logs)

    def partition_count(self, topic: str) -> int:
        """Return the number of partitions of a topic, or raise UnknownTopicError."""
        with self._lock:
            return len(self._log(topic))

    def publish(
        self,
        topic: str,
        value: Mapping[str, Any],
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> RecordMetadata:
        """Append one event to a topic and return where it landed."""
        data = encode_value(value)
        key = validate_key(key)
        header_copy = normalise_headers(headers)
        with self._lock:
            partitions = self._log(topic)
            partition = self._choose_partition(topic, key, len(partitions))
            log = partitions[partition]
            event = Event(
                topic=topic,
                partition=partition,
                offset=len(log),
                key=key,
                value={},
                headers=header_copy,
                timestamp=datetime.fromtimestamp(self._clock(), UTC),
            )
            log.append(_Stored(event, data))
            self._records_ready.notify_all()
        return RecordMetadata(topic, partition, event.offset)

    def subscribe(
        self,
        topics: Sequence[str] | str,
        group_id: str,
        auto_offset_reset: str = "earliest",
    ) -> InMemoryConsumer:
        """Join group_id as a new member reading the given topics."""
        names = (topics,) if isinstance(topics, str) else tuple(dict.fromkeys(topics))
        if not names:
            raise ValidationError("subscribe needs at least one topic")
        if not isinstance(group_id, str) or not group_id:
            raise ValidationError("group_id must be a non-empty string")
        validate_offset_reset(auto_offset_reset)
        with self._lock:
            for name in names:
                self._log(name)
            group = self._groups.setdefault(group_id, GroupState(group_id))
            member_id = f"{group_id}-member-{next(self._member_ids):06d}"
            member = Member(member_id, names, auto_offset_reset, self._clock())
            self._expire(group)
            group.join(member, self._partition_counts())
            consumer = InMemoryConsumer(self, group_id, member)
            consumer.generation = group.generation
            return consumer

    def committed(self, group_id: str, tp: TopicPartition) -> int | None:
        """Return a group's committed offset for a partition (next offset to read), if any."""
        with self._lock:
            group = self._groups.get(group_id)
            return None if group is None else group.committed.get(tp)

    def end_offset(self, tp: TopicPartition) -> int:
        """Return the offset the next record published to a partition will get."""
        with self._lock:
            return len(self._log(tp.topic)[tp.partition])

    def _log(self, topic: str) -> list[list[_Stored]]:
        partitions = self._logs.get(topic)
        if partitions is None:
            raise UnknownTopicError(
                f"topic {topic!r} does not exist; create it first (auto-creation is off)",
                details={"topic": topic},
            )
        return partitions

    def _choose_partition(self, topic: str, key: str | None, partitions: int) -> int:
        if key is not None:
            return partition_for_key(key, partitions)
        partition = self._next_keyless[topic] % partitions
        self._next_keyless[topic] = partition + 1
        return partition

    def _partition_counts(self) -> dict[str, int]:
        return {topic: len(partitions) for topic, partitions in self._logs.items()}

    def _expire(self, group: GroupState) -> None:
        group.expire(self._clock(), self._session_timeout, self._partition_counts())

    def _active_member(self, consumer: InMemoryConsumer) -> tuple[GroupState, Member | None]:
        """Refresh the caller's session, evict expired members and return the caller's state."""
        if consumer.closed:
            raise ConsumerClosedError(f"consumer {consumer.member_id} is closed")
        group = self._groups[consumer.group_id]
        member = group.members.get(consumer.member_id)
        if member is not None:
            member.last_seen = self._clock()
        self._expire(group)
        return group, group.members.get(consumer.member_id)

    def _poll(self, consumer: InMemoryConsumer, max_records: int, timeout_ms: int) -> list[Event]:
        deadline = time.monotonic() + max(timeout_ms, 0) / 1000
        with self._lock:
            while True:
                group, member = self._active_member(consumer)
                if member is None:
                    member = self._rejoin(group, consumer)
                consumer.generation = group.generation
                events = self._fetch(group, member, consumer, max_records)
                remaining = deadline - time.monotonic()
                if events or remaining <= 0:
                    return events
                self._records_ready.wait(remaining)

    def _rejoin(self, group: GroupState, consumer: InMemoryConsumer) -> Member:
        """Re-admit an evicted member, the way a Kafka consumer rejoins on its next poll."""
        member = Member(
            consumer.member_id, consumer.topics, consumer.auto_offset_reset, self._clock()
        )
        group.join(member, self._partition_counts())
        return member

    def _fetch(
        self, group: GroupState, member: Member, consumer: InMemoryConsumer, max_records: int
    ) -> list[Event]:
        """Read up to max_records from the member's partitions, rotating the starting one."""
        assigned = member.assignment
        if not assigned:
            return []
        start = consumer.cursor % len(assigned)
        consumer.cursor += 1
        events: list[Event] = []
        for tp in assigned[start:] + assigned[:start]:
            position = member.positions.get(tp)
            if position is None:
                position = self._reset_position(group, tp, member.auto_offset_reset)
            batch = self._logs[tp.topic][tp.partition][
                position : position + max_records - len(events)
            ]
            member.positions[tp] = position + len(batch)
            events.extend(stored.deliver() for stored in batch)
            if len(events) >= max_records:
                break
        return events

    def _reset_position(self, group: GroupState, tp: TopicPartition, policy: str) -> int:
        committed = group.committed.get(tp)
        if committed is not None:
            return committed
        return 0 if policy == "earliest" else len(self._logs[tp.topic][tp.partition])

    def _commit(self, consumer: InMemoryConsumer, events: list[Event] | None) -> None:
        with self._lock:
            group, member = self._active_member(consumer)
            if member is None or consumer.generation != group.generation:
                raise CommitFailedError(
                    f"group {group.group_id!r} rebalanced since member {consumer.member_id} "
                    "last polled; its records may be redelivered to another member",
                )
            if events is None:
                offsets = {
                    tp: member.positions[tp] for tp in member.assignment if tp in member.positions
                }
            else:
                offsets = next_offsets(events)
            foreign = sorted(tp for tp in offsets if tp not in member.assignment)
            if foreign:
                raise CommitFailedError(f"partitions {foreign} are not assigned to this member")
            group.committed.update(offsets)

    def _assignment(self, consumer: InMemoryConsumer) -> set[TopicPartition]:
        with self._lock:
            member = self._groups[consumer.group_id].members.get(consumer.member_id)
            return set() if consumer.closed or member is None else set(member.assignment)

    def _leave(self, consumer: InMemoryConsumer) -> None:
        with self._lock:
            if consumer.closed:
                return
            consumer.closed = True
            self._groups[consumer.group_id].leave(consumer.member_id, self._partition_counts())
            self._records_ready.notify_all()
