"""What the pipeline consumes on the bus: new dataset versions, which start triggered runs.

Consumes ``dataset.version.committed`` (storage.datasets) with a consumer group; offsets are
committed only after the batch's runs are recorded, so a consumer that dies mid-batch has
the batch redelivered, and the trigger key makes the redelivery start nothing twice. What
the pipeline publishes (``pipeline.runs``, ``pipeline.dead-letters``) is in ``runs.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from services.pipeline.runs import RunEngine
from shared.errors import NotFoundError, ValidationError
from shared.events.base import Event, EventBus
from shared.events.member import GroupMember
from shared.events.schema import EventType, read_event

TOPICS = ("storage.datasets",)
logger = logging.getLogger(__name__)


class DatasetTrigger(GroupMember):
    """Start the runs each committed dataset version triggers."""

    def __init__(
        self,
        engine: RunEngine,
        bus: Callable[[], EventBus],
        *,
        group: str = "pipeline",
        batch_size: int = 100,
    ) -> None:
        super().__init__(bus, TOPICS, group, batch_size)
        self.engine = engine

    def poll_once(self) -> list[str]:
        """Handle one batch; return the ids of the runs it started or found."""
        return self._batch()[1]

    def drain(self, max_batches: int = 100) -> list[str]:
        """Handle what the bus holds until a poll finds nothing; return the runs' ids."""
        runs: list[str] = []
        for _ in range(max_batches):
            count, batch = self._batch()
            if not count:
                break
            runs.extend(batch)
        return runs

    def _batch(self) -> tuple[int, list[str]]:
        with self._lock:
            events = self.consumer.poll(max_records=self.batch_size)
            if not events:
                return 0, []
            try:
                runs = [run for event in events for run in self._handle(event)]
            except Exception:
                # The member's position is past the batch; a new member resumes at the commit.
                self._leave()
                raise
            self.consumer.commit(events)
        return len(events), runs

    def _handle(self, event: Event) -> list[str]:
        try:
            envelope = read_event(event)
        except ValidationError as exc:
            # A record no reader can use is skipped (and counted), never retried forever.
            self.skipped += 1
            logger.warning("skipped %s@%s: %s", event.topic, event.offset, exc.message)
            return []
        if envelope.type != EventType.DATASET_VERSION_COMMITTED:
            return []
        try:
            return self.engine.trigger(envelope.data["dataset"], envelope.data["version"])
        except NotFoundError:
            return []
