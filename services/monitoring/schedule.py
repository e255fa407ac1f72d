"""Scheduled drift checks: each configured watch is checked on every tick of the schedule.

A tick checks every watch at the clock's time: the watch's training window against the
``current_seconds`` before now, through the same path as ``POST /api/v1/drift/checks``, so the
alerts it raises or resolves are the same and de-duplicated the same way (one open alert per
drifted group). A watch whose check fails (the feature store down, an unknown view, metrics_db
unavailable) records the failure and stays on the schedule; the other watches of the tick run.
The app runs ``tick`` on a background thread every ``drift_check_interval_s`` seconds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from services.monitoring.schemas import (
    DriftCheck,
    DriftCheckOut,
    DriftWatch,
    DriftWatchState,
    Window,
)
from shared.errors import SynapseError
from shared.events.schema import EventType

Clock = Callable[[], datetime]
Announce = Callable[[EventType, dict[str, Any]], None]
# Runs one drift check, collecting what it announces (Monitor.check_drift with its feature store).
Check = Callable[[DriftCheck, Announce], DriftCheckOut]
logger = logging.getLogger(__name__)


@dataclass
class _Record:
    watch: DriftWatch
    checks: int = 0
    failures: int = 0
    last_checked_at: datetime | None = None
    last_ok_at: datetime | None = None
    last_error: str | None = None

    def state(self) -> DriftWatchState:
        status: Literal["pending", "ok", "failed"] = "pending"
        if self.checks:
            status = "failed" if self.last_error else "ok"
        return DriftWatchState(
            feature_view=self.watch.feature_view,
            current_seconds=self.watch.current_seconds,
            status=status,
            checks=self.checks,
            failures=self.failures,
            last_checked_at=self.last_checked_at,
            last_ok_at=self.last_ok_at,
            last_error=self.last_error,
        )


class DriftSchedule:
    """The configured drift watches and the outcome of their last scheduled checks."""

    def __init__(
        self,
        watches: list[DriftWatch],
        check: Check,
        announce: Announce,
        clock: Clock,
        interval: float = 0.0,
    ) -> None:
        self.check, self.announce, self.clock, self.interval = check, announce, clock, interval
        self._records = [_Record(watch) for watch in watches]
        self._lock = threading.Lock()

    def tick(self) -> list[DriftCheckOut]:
        """Check every watch once at the clock's time; return the checks that succeeded."""
        with self._lock:
            now = self.clock()
            return [out for record in self._records if (out := self._run(record, now))]

    def poll(self) -> int:
        """Run one tick for the background thread; 0 so the thread waits the interval."""
        self.tick()
        return 0

    def states(self) -> list[DriftWatchState]:
        """Return each watch with the outcome of its scheduled checks, in configured order."""
        with self._lock:
            return [record.state() for record in self._records]

    def _run(self, record: _Record, now: datetime) -> DriftCheckOut | None:
        watch = record.watch
        body = DriftCheck(
            feature_view=watch.feature_view,
            reference=watch.reference,
            current=Window(start=now - timedelta(seconds=watch.current_seconds), end=now),
        )
        announcements: list[tuple[EventType, dict[str, Any]]] = []
        record.checks += 1
        record.last_checked_at = now
        try:
            out = self.check(body, lambda kind, data: announcements.append((kind, data)))
        except Exception as exc:  # one failing watch never stops the schedule
            record.failures += 1
            record.last_error = _describe(exc)
            logger.warning("drift check of %s failed: %s", watch.feature_view, record.last_error)
            return None
        record.last_ok_at, record.last_error = now, None
        for kind, data in announcements:
            self.announce(kind, data)
        return out


def _describe(exc: Exception) -> str:
    if isinstance(exc, SynapseError):
        return f"{exc.code}: {exc.message}"[:500]
    return f"{type(exc).__name__}: {exc}"[:500]
