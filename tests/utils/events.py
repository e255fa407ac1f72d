"""Test helpers for the event bus: a manual clock, bus factories and an operation counter."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from shared.events.base import Event, EventBus
from shared.events.memory import InMemoryEventBus

START = 1_710_000_000.0  # 2024-03-09T16:00:00Z, the day before a US DST change
EVENTS_PACKAGE = str(Path(__file__).resolve().parents[2] / "shared" / "events")


class ManualClock:
    """Epoch-seconds clock that moves only when advanced."""

    def __init__(self, start: float = START) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_memory_bus(clock: ManualClock | None = None, **kwargs: Any) -> InMemoryEventBus:
    """Build an in-memory bus on a manual clock."""
    return InMemoryEventBus(clock=clock or ManualClock(), **kwargs)


# Implementations the contract suite runs against; the infrastructure lane adds "kafka".
BUS_FACTORIES: dict[str, Callable[[], EventBus]] = {"memory": make_memory_bus}


def drain(consumer, max_records: int = 500, rounds: int = 20) -> list[Event]:
    """Poll until a poll comes back empty and return everything read."""
    events: list[Event] = []
    for _ in range(rounds):
        batch = consumer.poll(max_records=max_records)
        if not batch:
            break
        events.extend(batch)
    return events


def values(events: Iterable[Event], field: str = "n") -> list[Any]:
    """Return one field of each event's value, in order."""
    return [event.value[field] for event in events]


def publish_numbers(bus: EventBus, topic: str, count: int, key: str | None = None) -> list:
    """Publish {"n": 0..count-1} to a topic and return the record metadata."""
    return [bus.publish(topic, {"n": n}, key=key) for n in range(count)]


def count_lines(action: Callable[[], Any], root: str = EVENTS_PACKAGE) -> int:
    """Return how many source lines of the event-bus package action executes (an op count)."""
    executed = 0

    def tracer(frame, event, arg):
        nonlocal executed
        if not frame.f_code.co_filename.startswith(root):
            return None
        if event == "line":
            executed += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        action()
    finally:
        sys.settrace(previous)
    return executed
