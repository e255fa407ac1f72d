"""Held-out: the promotion follower with other models, versions and failures."""

from __future__ import annotations

from contextlib import suppress

import pytest

from services.inference.events import PromotionFollower
from services.inference.registry_cache import CachedRegistry, record_key
from shared.cache.memory import InMemoryCache
from shared.errors import ValidationError
from shared.events.schema import EventType, ensure_topics, make_event, publish_event
from tests.utils.events import ManualClock, drain, make_memory_bus
from tests.utils.inference import FakeRegistry

pytestmark = pytest.mark.inference


class Server:
    """Serves one version per model; ``failures`` are raised by the next deploys, in order."""

    def __init__(self, serving: dict[str, int], failures: list[Exception] | None = None) -> None:
        self.serving = dict(serving)
        self.failures = list(failures or [])
        self.swaps: list[tuple[str, int]] = []

    def snapshot(self) -> dict:
        return {"items": [{"name": n, "version": v} for n, v in sorted(self.serving.items())]}

    def deploy(self, name: str, version: int, stage: str | None = None) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.swaps.append((name, version))
        self.serving[name] = version


def promote(bus, name: str, version: int, archived: list[int]) -> None:
    data = {
        "name": name,
        "version": version,
        "artifact_uri": "s3://b",
        "archived_versions": archived,
    }
    publish_event(bus, make_event(EventType.MODEL_VERSION_PROMOTED, data, source="registry"))


@pytest.fixture
def bus():
    bus = make_memory_bus(ManualClock(), session_timeout_ms=1_000)
    ensure_topics(bus)
    return bus


def follower_for(bus, server, cache=None) -> PromotionFollower:
    registry = FakeRegistry()
    for number in range(1, 7):
        registry.add("ranker", number, f"ranker/v{number}/model.npz")
    cached = CachedRegistry(registry.client(), cache or InMemoryCache())
    return PromotionFollower(server, cached, bus, "inference-b")


def test_promotion_archiving_two_versions_drops_all_three_cached_records(bus):
    cache = InMemoryCache()
    for number in range(1, 6):
        cache.set_json(record_key("ranker", number), {"version": number})
    follower = follower_for(bus, Server({}), cache)
    promote(bus, "ranker", 5, [3, 4])
    follower.process_pending()
    dropped = [cache.get(record_key("ranker", n)) is None for n in range(1, 6)]
    assert dropped == [False, False, True, True, True]


def test_promotion_whose_swap_raised_an_os_error_is_followed_after_a_restart(bus):
    server = Server({"ranker": 2}, failures=[OSError("disk went away")])
    follower = follower_for(bus, server)
    promote(bus, "ranker", 4, [2])
    with suppress(OSError):  # the replica's process dies here
        follower.process_pending()
    follower.close()
    restarted = follower_for(bus, server)
    restarted.process_pending()
    assert server.swaps == [("ranker", 4)]
    restarted.close()


def test_promotion_the_replica_refuses_to_load_announces_no_deployment(bus):
    watcher = bus.subscribe("inference.deployments", "test-watch", auto_offset_reset="earliest")
    server = Server({"ranker": 1}, failures=[ValidationError("artifact schema differs")])
    follower = follower_for(bus, server)
    promote(bus, "ranker", 6, [1])
    assert follower.process_pending() == 1
    promote(bus, "ranker", 3, [6])
    assert follower.process_pending() == 1
    announced = [
        (e.value["data"]["version"], e.value["data"]["previous_version"]) for e in drain(watcher)
    ]
    assert announced == [(3, 1)]
    assert server.swaps == [("ranker", 3)]
