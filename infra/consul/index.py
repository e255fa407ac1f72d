"""The shared Raft-like index: bumped by every write, awaited by blocking queries."""

from __future__ import annotations

import threading
import time


class IndexClock:
    """A monotonically increasing modify index with a condition to wait for changes."""

    def __init__(self, start: int = 1) -> None:
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)
        self._index = start

    @property
    def current(self) -> int:
        """Return the current index."""
        with self.lock:
            return self._index

    def bump(self) -> int:
        """Advance the index (caller holds the lock) and wake blocked queries."""
        with self.lock:
            self._index += 1
            self._changed.notify_all()
            return self._index

    def wait_past(self, index: int, timeout: float) -> int:
        """Block until the index exceeds `index` or `timeout` seconds pass; return it."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while self._index <= index:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            return self._index
