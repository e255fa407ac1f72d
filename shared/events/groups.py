"""Consumer-group state for the in-memory bus: members, range assignment, offsets, sessions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from shared.events.base import TopicPartition


@dataclass
class Member:
    """One consumer in a group, as the coordinator sees it."""

    member_id: str
    topics: tuple[str, ...]
    auto_offset_reset: str
    last_seen: float
    assignment: list[TopicPartition] = field(default_factory=list)
    # Next offset to fetch per assigned partition, resolved on the member's first fetch.
    positions: dict[TopicPartition, int] = field(default_factory=dict)


def range_assign(
    subscriptions: Mapping[str, Sequence[str]], partition_counts: Mapping[str, int]
) -> dict[str, list[TopicPartition]]:
    """Assign each topic's partitions to its subscribers in contiguous ranges (Kafka's range).

    Subscribers of a topic are ordered by member id; when the partitions do not divide evenly,
    the first members get one extra partition each.
    """
    assignment: dict[str, list[TopicPartition]] = {member: [] for member in subscriptions}
    topics = sorted({topic for topics in subscriptions.values() for topic in topics})
    for topic in topics:
        members = sorted(m for m, subscribed in subscriptions.items() if topic in subscribed)
        per_member, extra = divmod(partition_counts[topic], len(members))
        start = 0
        for index, member in enumerate(members):
            count = per_member + (1 if index < extra else 0)
            assignment[member].extend(TopicPartition(topic, p) for p in range(start, start + count))
            start += count
    return assignment


@dataclass
class GroupState:
    """A consumer group: its members, generation and committed offsets.

    A rebalance revokes every partition from every member (eager protocol); each new owner
    resumes from the group's committed offset or its reset policy.
    """

    group_id: str
    generation: int = 0
    members: dict[str, Member] = field(default_factory=dict)
    committed: dict[TopicPartition, int] = field(default_factory=dict)

    def join(self, member: Member, partition_counts: Mapping[str, int]) -> None:
        """Add a member and rebalance."""
        self.members[member.member_id] = member
        self.rebalance(partition_counts)

    def leave(self, member_id: str, partition_counts: Mapping[str, int]) -> bool:
        """Remove a member and rebalance; return False when it was not a member."""
        if self.members.pop(member_id, None) is None:
            return False
        self.rebalance(partition_counts)
        return True

    def expire(
        self, now: float, session_timeout: float, partition_counts: Mapping[str, int]
    ) -> list[str]:
        """Evict members not seen within the session timeout; return their ids."""
        expired = [
            m.member_id for m in self.members.values() if now - m.last_seen > session_timeout
        ]
        for member_id in expired:
            del self.members[member_id]
        if expired:
            self.rebalance(partition_counts)
        return expired

    def rebalance(self, partition_counts: Mapping[str, int]) -> None:
        """Start a new generation and reassign every partition across the current members."""
        self.generation += 1
        subscriptions = {m.member_id: m.topics for m in self.members.values()}
        for member_id, partitions in range_assign(subscriptions, partition_counts).items():
            member = self.members[member_id]
            member.assignment = partitions
            member.positions = {}
