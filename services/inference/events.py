"""What inference announces and follows: deployments out, promotions in.

Publishes ``deployment.swapped`` (a model deployed: name, version, previous version) on
topic inference.deployments whenever a version starts serving. Consumes from models.versions:
``model.version.registered`` drops a cached "no such version" answer, so a version registered
after a failed deploy is deployable at once; ``model.version.promoted`` drops the cached
registry records the promotion made stale, and when this replica serves that model it swaps to
the version the registry has in Production (announcing the deployment). Every replica joins
with a consumer group of its own (SYNAPSE_INFERENCE_EVENTS_GROUP, unique per replica by
default), so every replica sees every event, and a restarted replica given the same group
resumes where it stopped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from services.inference.registry_cache import CachedRegistry
from shared.errors import SynapseError
from shared.events.base import Event, EventBus
from shared.events.schema import (
    EventEnvelope,
    EventType,
    make_event,
    publish_event,
    read_event,
)
from shared.tracing import current_correlation_id

SOURCE = "inference"
PROMOTIONS_TOPIC = "models.versions"
DEPLOYMENTS_TOPIC = "inference.deployments"
logger = logging.getLogger(__name__)


def deployed_version(server: Any, name: str) -> int | None:
    """Return the version of ``name`` this replica serves, or None."""
    for item in server.snapshot()["items"]:
        if item["name"] == name:
            return int(item["version"])
    return None


def publish_deployed(bus: EventBus, name: str, version: int, previous: int | None) -> None:
    """Announce that ``version`` of ``name`` now serves here (replacing ``previous``)."""
    data = {"name": name, "version": version, "previous_version": previous}
    publish_event(bus, make_event(EventType.DEPLOYMENT_SWAPPED, data, source=SOURCE))


class PromotionFollower:
    """Consume promotion events: invalidate cached lookups and follow the new Production."""

    def __init__(self, server: Any, registry: CachedRegistry, bus: EventBus, group: str) -> None:
        self.server = server
        self.registry = registry
        self.bus = bus
        self.handled = 0
        self.group = group
        self.consumer = bus.subscribe(PROMOTIONS_TOPIC, self.group, auto_offset_reset="latest")
        # A new group starts at the end of the topic when it first polls: poll now and commit
        # that position, so neither a late first poll nor an eviction and rejoin can skip
        # promotions published after start-up.
        self.process_pending()
        self._commit_position()

    def process_pending(self, max_records: int = 100, timeout_ms: int = 0) -> int:
        """Handle the events waiting for this group and commit them; return how many."""
        events = self.consumer.poll(max_records=max_records, timeout_ms=timeout_ms)
        for event in events:
            self._handle_record(event)
        if events:
            self.consumer.commit(events)
        return len(events)

    def wait_assigned(self, attempts: int = 50, timeout_ms: int = 200) -> bool:
        """Poll (handling what arrives) until the group assigned partitions to this member."""
        for _ in range(attempts):
            if self.consumer.assignment():
                self._commit_position()
                return True
            self.process_pending(timeout_ms=timeout_ms)
        return False

    def handle(self, envelope: EventEnvelope) -> None:
        """Apply one event: registrations and promotions matter to inference."""
        if envelope.type == EventType.MODEL_VERSION_REGISTERED:
            self.registry.forget_missing(envelope.data["name"], int(envelope.data["version"]))
            return
        if envelope.type != EventType.MODEL_VERSION_PROMOTED:
            return
        name, version = envelope.data["name"], int(envelope.data["version"])
        for number in (version, *envelope.data["archived_versions"]):
            self.registry.invalidate(name, int(number))
        current = deployed_version(self.server, name)
        if current is not None and current != version:
            # Delivery is at least once and a redelivered promotion can arrive after a newer
            # one: swap only while the registry (not the event) has the version in Production.
            self.server.deploy(name, version, stage="Production")
            publish_deployed(self.bus, name, version, current)
        self.handled += 1

    def close(self) -> None:
        """Leave the consumer group."""
        self.consumer.close()

    def _commit_position(self) -> None:
        try:
            self.consumer.commit()
        except SynapseError as exc:  # a rebalance in between: the next poll rejoins
            logger.warning("could not commit the start position: %s", exc.message)

    def _handle_record(self, event: Event) -> None:
        # A bad event or a failed swap is logged and skipped: one poison record must not
        # stop this replica from following later promotions.
        try:
            self.handle(read_event(event))
        except SynapseError as exc:
            logger.warning("skipped %s@%s: %s", event.topic, event.offset, exc.message)


class FollowerThread:
    """Run a follower's poll loop in a daemon thread until stopped (the service lifespan)."""

    def __init__(self, follower: PromotionFollower, poll_ms: int = 1000) -> None:
        self.follower = follower
        self.poll_ms = poll_ms
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="promotion-follower", daemon=True)

    def start(self) -> None:
        """Start polling."""
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and wait for the loop to finish its current poll."""
        self._stop.set()
        self._thread.join(timeout=self.poll_ms / 1000 * 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.follower.process_pending(timeout_ms=self.poll_ms)
            except SynapseError as exc:
                logger.warning("promotion follower: %s", exc.message)
                self._stop.wait(self.poll_ms / 1000)


class PredictionRecorder:
    """Announce every prediction request's outcome on inference.predictions.

    Each ``prediction.served`` event names the model, the version that answered (None when
    none did), the HTTP status and the latency in milliseconds, and carries the request's
    correlation ID. A bus that cannot take the event costs the caller nothing: the prediction
    is answered and the failure logged.
    """

    def __init__(self, bus: Callable[[], EventBus], clock: Callable[[], float]) -> None:
        self.bus = bus
        self.clock = clock

    def observe(self, name: str, serve: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Run one prediction request and announce how it ended (a platform error re-raised)."""
        started = self.clock()
        try:
            served = serve()
        except SynapseError as exc:
            self.record(name, None, exc.status_code, started)
            raise
        self.record(name, served["version"], 200, started)
        return served

    def record(self, name: str, version: int | None, status: int, started: float) -> None:
        """Publish the outcome of one prediction request that started at ``started``."""
        data = {
            "name": name,
            "version": version,
            "status": status,
            "latency_ms": round((self.clock() - started) * 1000.0, 3),
        }
        try:
            event = make_event(
                EventType.PREDICTION_SERVED,
                data,
                source=SOURCE,
                correlation_id=current_correlation_id(),
            )
            publish_event(self.bus(), event)
        except SynapseError as exc:
            logger.warning("could not announce a prediction of %s: %s", name, exc.message)
