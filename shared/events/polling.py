"""Poll a consumer in a background thread while an app runs, pausing when nothing came."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sized

from sqlalchemy.exc import SQLAlchemyError

from shared.errors import SynapseError

logger = logging.getLogger(__name__)


class PollingThread:
    """Call ``poll`` until stopped; after a poll that handled nothing, wait ``interval`` seconds.

    ``poll`` returns what it handled (a count or a list). A platform or database error is
    logged and retried after the pause, so an outage never kills the thread; ``close`` runs
    once the thread has stopped.
    """

    def __init__(
        self,
        name: str,
        poll: Callable[[], int | Sized],
        close: Callable[[], None],
        interval: float,
    ) -> None:
        self.name, self.poll, self.close, self.interval = name, poll, close, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Start polling."""
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and close the consumer (leaving its group)."""
        self._stop.set()
        self._thread.join(timeout=10)
        self.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                handled = self.poll()
            except (SynapseError, SQLAlchemyError) as exc:
                logger.warning("%s failed, retrying: %s", self.name, exc)
                handled = 0
            if not (handled if isinstance(handled, int) else len(handled)):
                self._stop.wait(self.interval)
