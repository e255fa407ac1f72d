"""Event-time tumbling windows with a watermark: late records are counted, never misfiled.

Records arrive in partitions (the objects of a dataset version, as a Kafka topic has
partitions), read one from each partition in turn; within a partition in arrival order.
Each partition's watermark
trails the latest event time it has shown by the allowed lateness, and the operator's
watermark is the slowest partition's, so one fast partition cannot close the windows of
another. A record whose window ended at or before the watermark is late.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.utils.timeutils import to_utc

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Record:
    """One input record: when it happened, its partition and its numeric value."""

    event_time: datetime
    value: Decimal
    partition: int = 0


@dataclass
class Window:
    """Aggregates of one tumbling window."""

    start: datetime
    end: datetime
    count: int = 0
    total: Decimal = Decimal(0)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form of the window."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "count": self.count,
            "sum": str(self.total),
        }


class Watermark:
    """Per-partition watermarks; the operator's is the slowest partition's."""

    def __init__(self, allowed_lateness: timedelta, partitions: int = 1) -> None:
        self.lateness = allowed_lateness
        self.partitions = partitions
        self.marks: dict[int, datetime] = {}

    def current(self) -> datetime | None:
        """Return the operator watermark; None while some partition has shown nothing."""
        if len(self.marks) < self.partitions:
            return None
        return min(self.marks.values())

    def observe(self, record: Record) -> None:
        """Advance the record's partition past its event time, never backwards."""
        candidate = record.event_time - self.lateness
        previous = self.marks.get(record.partition)
        self.marks[record.partition] = candidate if previous is None else max(previous, candidate)


@dataclass
class WindowResult:
    """What a windowed aggregation produced."""

    windows: dict[datetime, Window] = field(default_factory=dict)
    late: int = 0
    invalid: int = 0
    watermark: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form: windows oldest first, the late and invalid counts."""
        return {
            "windows": [self.windows[start].to_dict() for start in sorted(self.windows)],
            "late_records": self.late,
            "invalid_records": self.invalid,
            "watermark": None if self.watermark is None else self.watermark.isoformat(),
        }


def window_start(moment: datetime, size: timedelta) -> datetime:
    """Return the start of the tumbling window of ``size`` that holds ``moment``."""
    seconds = size.total_seconds()
    offset = (moment - EPOCH).total_seconds()
    return EPOCH + timedelta(seconds=math.floor(offset / seconds) * seconds)


def arrival_order(partitions: Sequence[Sequence[Record]]) -> Iterator[Record]:
    """Yield records as concurrent partitions deliver them: one from each in turn."""
    iterators = [iter(partition) for partition in partitions]
    while iterators:
        alive = []
        for iterator in iterators:
            record = next(iterator, None)
            if record is not None:
                alive.append(iterator)
                yield record
        iterators = alive


def aggregate(
    partitions: Sequence[Sequence[Record]], size: timedelta, lateness: timedelta
) -> WindowResult:
    """Count and sum records per tumbling window in arrival order, counting late ones apart."""
    result = WindowResult()
    watermark = Watermark(lateness, len(partitions))
    for record in arrival_order(partitions):
        start = window_start(record.event_time, size)
        closed = watermark.current()
        if closed is not None and start + size <= closed:
            result.late += 1
        else:
            window = result.windows.setdefault(start, Window(start, start + size))
            window.count += 1
            window.total += record.value
        watermark.observe(record)
    result.watermark = watermark.current()
    return result


def parse_record(raw: Any, partition: int = 0) -> Record | None:
    """Return a record from its JSON form, or None when it is not a usable record."""
    if not isinstance(raw, Mapping):
        return None
    text, value = raw.get("ts"), raw.get("value")
    if (
        not isinstance(text, str)
        or isinstance(value, bool)
        or not isinstance(value, int | float | str)
    ):
        return None
    try:
        moment = datetime.fromisoformat(text)
        number = Decimal(str(value))
    except (ValueError, InvalidOperation):
        return None
    if moment.tzinfo is None or moment.utcoffset() is None or not number.is_finite():
        return None
    return Record(to_utc(moment), number, partition)


def parse_records(raw: Iterable[Any], partition: int = 0) -> tuple[list[Record], int]:
    """Return the usable records and how many were not usable."""
    records, invalid = [], 0
    for item in raw:
        record = parse_record(item, partition)
        if record is None:
            invalid += 1
        else:
            records.append(record)
    return records, invalid
