"""Time helpers: aware UTC datetimes, ISO 8601 parsing and formatting, injectable clocks."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol, runtime_checkable

from shared.errors import ValidationError


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def ensure_aware(dt: datetime, *, assume_utc: bool = False) -> datetime:
    """Return `dt` if it carries an offset; refuse naive values.

    `assume_utc=True` is only for values read back from stores that drop the offset but
    are documented to hold UTC (for example SQLite columns written by this platform).
    """
    if not isinstance(dt, datetime):
        raise ValidationError(f"expected a datetime, got {type(dt).__name__}")
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        if assume_utc:
            return dt.replace(tzinfo=UTC)
        raise ValidationError(f"naive datetime {dt.isoformat()} has no time zone")
    return dt


def to_utc(dt: datetime, *, assume_utc: bool = False) -> datetime:
    """Return `dt` converted to UTC; naive values are refused unless `assume_utc`."""
    return ensure_aware(dt, assume_utc=assume_utc).astimezone(UTC)


def parse_iso8601(text: str, *, default_tz: tzinfo | None = None) -> datetime:
    """Parse an ISO 8601 timestamp into an aware UTC datetime.

    A value without an offset is refused unless `default_tz` says which zone it is in.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(f"expected an ISO 8601 timestamp, got {text!r}")
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"not an ISO 8601 timestamp: {text!r}") from None
    if parsed.tzinfo is None:
        if default_tz is None:
            raise ValidationError(f"timestamp {text!r} has no time zone offset")
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed.astimezone(UTC)


def isoformat(dt: datetime) -> str:
    """Format an aware datetime in UTC as ISO 8601 with a trailing "Z"."""
    return to_utc(dt).isoformat().replace("+00:00", "Z")


@runtime_checkable
class Clock(Protocol):
    """A source of wall-clock and monotonic time that tests can replace."""

    def now(self) -> datetime:
        """Return the current aware UTC datetime."""

    def monotonic(self) -> float:
        """Return seconds from an arbitrary fixed origin, never going backwards."""

    def sleep(self, seconds: float) -> None:
        """Pause for `seconds`."""


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Return the current aware UTC datetime."""
        return utcnow()

    def monotonic(self) -> float:
        """Return the system's monotonic time in seconds."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Pause for ``seconds``."""
        time.sleep(seconds)


class FakeClock:
    """A clock that only moves when told to; `sleep` advances it and records the pause."""

    def __init__(self, start: datetime | None = None, *, monotonic_start: float = 0.0) -> None:
        self._now = to_utc(start) if start is not None else datetime(2024, 1, 1, tzinfo=UTC)
        self._monotonic = monotonic_start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        """Return the fake current time."""
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        """Return the fake monotonic time."""
        with self._lock:
            return self._monotonic

    def __call__(self) -> float:
        """Return the fake monotonic time, so the clock can serve as a timer."""
        return self.monotonic()

    def advance(self, seconds: float | timedelta) -> None:
        """Move both wall-clock and monotonic time forward."""
        delta = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
        if delta < timedelta(0):
            raise ValueError("a clock cannot move backwards")
        with self._lock:
            self._now += delta
            self._monotonic += delta.total_seconds()

    def sleep(self, seconds: float) -> None:
        """Record the pause and advance the clock by it."""
        self.sleeps.append(seconds)
        self.advance(seconds)
