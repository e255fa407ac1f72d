"""The promotion follower on its own: start position, eviction, cache invalidation, swaps."""

from __future__ import annotations

import pytest

from services.inference.events import PromotionFollower
from services.inference.registry_cache import CachedRegistry, record_key
from shared.cache.memory import InMemoryCache
from shared.events.schema import EventType, ensure_topics, make_event, publish_event
from tests.utils.events import ManualClock, drain, make_memory_bus
from tests.utils.inference import FakeRegistry

pytestmark = pytest.mark.inference


class Server:
    """Serves one version per model; deploy() records the swaps it was asked for."""

    def __init__(self, serving: dict[str, int]) -> None:
        self.serving = dict(serving)
        self.swaps: list[tuple[str, int]] = []

    def snapshot(self) -> dict:
        return {"items": [{"name": n, "version": v} for n, v in sorted(self.serving.items())]}

    def deploy(self, name: str, version: int, stage: str | None = None) -> None:
        self.swaps.append((name, version))
        self.serving[name] = version


def promote(bus, name: str, version: int, archived: list[int]) -> None:
    data = {
        "name": name,
        "version": version,
        "artifact_uri": "s3://a",
        "archived_versions": archived,
    }
    publish_event(bus, make_event(EventType.MODEL_VERSION_PROMOTED, data, source="registry"))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def bus(clock):
    bus = make_memory_bus(clock, session_timeout_ms=1_000)
    ensure_topics(bus)
    return bus


def follower_for(bus, server, cache=None, registry=None) -> PromotionFollower:
    if registry is None:
        registry = FakeRegistry()
        for number in (1, 2, 3, 4):
            registry.add("churn", number, f"churn/v{number}/model.npz")
    cached = CachedRegistry(registry.client(), cache or InMemoryCache())
    return PromotionFollower(server, cached, bus, "inference-a")


def test_promotions_before_start_up_are_not_replayed(bus):
    promote(bus, "churn", 1, [])
    server = Server({"churn": 0})
    follower = follower_for(bus, server)
    assert follower.process_pending() == 0 and server.swaps == []


def test_a_promotion_after_an_eviction_is_still_followed(bus, clock):
    server = Server({"churn": 1})
    follower = follower_for(bus, server)
    clock.advance(5.0)  # silent for longer than its session ...
    bus.subscribe("models.versions", follower.group).close()  # ... so the next join evicts it
    promote(bus, "churn", 2, [1])
    assert follower.process_pending() == 1
    assert server.swaps == [("churn", 2)]


def test_a_promotion_leaves_no_stale_record_of_the_versions_it_changed(bus):
    cache = InMemoryCache()
    for number in (1, 2, 3):
        cache.set_json(record_key("churn", number), {"version": number})
    follower = follower_for(bus, Server({}), cache)
    promote(bus, "churn", 3, [2])
    follower.process_pending()
    assert [cache.get(record_key("churn", n)) is None for n in (1, 2, 3)] == [False, True, True]


def test_models_not_served_here_or_already_current_are_not_swapped(bus):
    server = Server({"churn": 2})
    follower = follower_for(bus, server)
    promote(bus, "fraud", 4, [])
    promote(bus, "churn", 2, [1])
    assert follower.process_pending() == 2
    assert server.swaps == [] and follower.handled == 2


def test_handled_events_are_committed_for_the_group(bus):
    follower = follower_for(bus, Server({}))
    promote(bus, "churn", 1, [])
    follower.process_pending()
    follower.close()
    rejoined = bus.subscribe("models.versions", follower.group, auto_offset_reset="earliest")
    assert drain(rejoined) == []
