"""Resilience bounds the work done against a failing service."""

from __future__ import annotations

import pytest

from shared.clients.base import CircuitBreaker
from shared.errors import ServiceUnavailableError
from shared.utils.timeutils import FakeClock
from tests.utils.clients import ScriptedTransport, make_client, no_jitter_policy

pytestmark = pytest.mark.gateway


def test_open_breaker_makes_no_transport_calls():
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=60, clock=FakeClock())
    breaker.record_failure()
    breaker.record_failure()
    transport = ScriptedTransport()
    client = make_client(transport=transport, breaker=breaker)
    for _ in range(50):
        with pytest.raises(ServiceUnavailableError):
            client.get("/x")
    assert transport.calls == 0


def test_persistent_outage_costs_exactly_max_attempts_per_call():
    transport = ScriptedTransport([503] * 100)
    client = make_client(transport=transport, retry=no_jitter_policy(max_attempts=3))
    for _ in range(5):
        client.get("/x")
    assert transport.calls == 15


def test_breaker_opening_mid_retry_stops_further_attempts():
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=60, clock=FakeClock())
    transport = ScriptedTransport([503] * 10)
    client = make_client(transport=transport, breaker=breaker, retry=no_jitter_policy())
    with pytest.raises(ServiceUnavailableError, match="circuit open"):
        client.get("/x")
    assert transport.calls == 2


def test_upstream_after_its_cooldown_gets_a_single_request_first():
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=10, clock=clock)
    breaker.record_failure()
    clock.advance(10)
    breaker.before_call()
    rejected = 0
    for _ in range(20):
        try:
            breaker.before_call()
        except ServiceUnavailableError:
            rejected += 1
    assert rejected == 20


def test_non_idempotent_calls_cost_one_attempt_each():
    transport = ScriptedTransport([502] * 10)
    client = make_client(transport=transport)
    for _ in range(4):
        client.patch("/models/iris", json={"description": "x"})
        client.post("/jobs", json={})
    assert transport.calls == 8
