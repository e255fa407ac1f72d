"""Held-out: registry lookups through the cache after outages and registrations."""

from __future__ import annotations

import pytest

from services.inference.config import Settings
from services.inference.events import PromotionFollower
from services.inference.registry_cache import CachedRegistry
from shared.cache.memory import InMemoryCache
from shared.errors import NotFoundError, SynapseError
from shared.events.schema import EventType, ensure_topics, make_event, publish_event
from tests.utils.events import ManualClock, make_memory_bus
from tests.utils.inference import FakeRegistry

pytestmark = pytest.mark.inference


class Idle:
    """A server serving nothing."""

    def snapshot(self) -> dict:
        return {"items": []}


def test_registration_event_lets_a_version_refused_earlier_be_looked_up():
    bus = make_memory_bus(ManualClock(), session_timeout_ms=1_000)
    ensure_topics(bus)
    fake = FakeRegistry()
    registry = CachedRegistry(fake.client(), InMemoryCache())
    follower = PromotionFollower(Idle(), registry, bus, "inference-c")
    with pytest.raises(NotFoundError):
        registry.get_version("ltv", 5)
    fake.add("ltv", 5, "ltv/v5/model.npz")
    data = {"name": "ltv", "version": 5, "artifact_uri": "ltv/v5/model.npz"}
    publish_event(bus, make_event(EventType.MODEL_VERSION_REGISTERED, data, source="registry"))
    assert follower.process_pending() == 1
    assert registry.get_version("ltv", 5)["artifact_uri"] == "ltv/v5/model.npz"


def test_lookup_answered_502_during_an_outage_is_asked_again_after_it():
    fake = FakeRegistry(lookup_failures=[502])
    fake.add("ltv", 8, "ltv/v8/model.npz")
    registry = CachedRegistry(fake.client(), InMemoryCache())
    with pytest.raises(SynapseError) as info:
        registry.get_version("ltv", 8)
    assert not isinstance(info.value, NotFoundError)
    assert registry.get_version("ltv", 8)["artifact_uri"] == "ltv/v8/model.npz"
    assert len([p for p in fake.requests if p.endswith("/ltv/versions/8")]) == 2


def test_two_replicas_configured_in_one_process_join_different_groups(tmp_path):
    first = Settings(artifact_root=tmp_path / "a")
    second = Settings(artifact_root=tmp_path / "b")
    assert first.events_group != second.events_group
    assert first.events_group.startswith("inference-")
