"""Backpressure of one replica: a bounded number of predictions run, a bounded number wait.

A prediction takes a slot; when every slot is busy it waits in a bounded queue for one, and
when the queue is full too it is refused at once (429 with Retry-After), so an overloaded
replica sheds load instead of piling up threads until it falls over.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from shared.errors import TooManyRequestsError


class Admission:
    """Admit at most ``max_in_flight`` predictions at once and queue at most ``max_queued``."""

    def __init__(
        self, max_in_flight: int, max_queued: int, *, retry_after: int = 1, timeout: float = 30.0
    ) -> None:
        if max_in_flight < 1 or max_queued < 0:
            raise ValueError("max_in_flight must be at least 1 and max_queued at least 0")
        self.max_in_flight = max_in_flight
        self.max_queued = max_queued
        self.retry_after = retry_after
        self.timeout = timeout
        self.running = 0
        self.waiting = 0
        self.refused = 0
        self._cond = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot for the duration of the block, or raise TooManyRequestsError."""
        self._enter()
        try:
            yield
        finally:
            with self._cond:
                self.running -= 1
                self._cond.notify()

    def _enter(self) -> None:
        with self._cond:
            if self.running < self.max_in_flight and self.waiting == 0:
                self.running += 1
                return
            if self.waiting >= self.max_queued:
                self._refuse("every prediction slot is busy and the queue is full")
            self.waiting += 1
            try:
                admitted = self._cond.wait_for(
                    lambda: self.running < self.max_in_flight, self.timeout
                )
            finally:
                self.waiting -= 1
            if not admitted:
                self._refuse("no prediction slot became free in time")
            self.running += 1

    def _refuse(self, reason: str) -> None:
        self.refused += 1
        raise TooManyRequestsError(
            f"inference is at capacity: {reason}",
            retry_after=self.retry_after,
            details={"max_in_flight": self.max_in_flight, "max_queued": self.max_queued},
        )

    def state(self) -> dict[str, int]:
        """Return the limits and the current counts."""
        with self._cond:
            return {
                "max_in_flight": self.max_in_flight,
                "max_queued": self.max_queued,
                "running": self.running,
                "waiting": self.waiting,
                "refused": self.refused,
            }
