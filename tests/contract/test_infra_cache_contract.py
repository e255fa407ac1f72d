"""Cache contract on the in-memory adapter (expiry on an injected clock)."""

from __future__ import annotations

import pytest

from shared.cache.memory import InMemoryCache
from tests.utils.infra import ManualClock
from tests.utils.infra_contracts import CacheContract

pytestmark = pytest.mark.inference


class TestInMemoryCache(CacheContract):
    @pytest.fixture
    def clock(self):
        return ManualClock()

    @pytest.fixture
    def cache(self, clock):
        return InMemoryCache(clock=clock)

    @pytest.fixture
    def wait(self, clock):
        return clock.advance


def test_expiry_is_exact_at_the_ttl_boundary():
    clock = ManualClock()
    cache = InMemoryCache(clock=clock)
    cache.set("k", "v", ttl=1.5)
    clock.advance(1.499)
    assert cache.get("k") == "v"
    clock.advance(0.001)
    assert cache.get("k") is None


def test_remaining_ttl_is_reported_to_the_millisecond():
    clock = ManualClock()
    cache = InMemoryCache(clock=clock)
    cache.set("k", "v", ttl=90)
    clock.advance(30.25)
    assert cache.ttl("k") == 59.75
