"""A consumer-group member that a service joins on first use and leaves on failure or close."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from shared.events.base import Consumer, EventBus


class GroupMember:
    """Hold one service's membership of a consumer group on ``topics``.

    A service that fails to handle a batch leaves the group (``_leave``): its position is past
    that batch, and the member that joins next resumes at the last commit, so the batch is read
    again. Subclasses handle batches under ``_lock`` and count the records they skip.
    """

    def __init__(
        self, bus: Callable[[], EventBus], topics: Sequence[str], group: str, batch_size: int
    ) -> None:
        self.bus = bus
        self.topics = list(topics)
        self.group = group
        self.batch_size = batch_size
        self.skipped = 0
        self._consumer: Consumer | None = None
        self._lock = threading.Lock()

    @property
    def consumer(self) -> Consumer:
        """Return the group member, joining the group on first use."""
        if self._consumer is None:
            self._consumer = self.bus().subscribe(self.topics, self.group)
        return self._consumer

    def close(self) -> None:
        """Leave the consumer group."""
        with self._lock:
            self._leave()

    def _leave(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
