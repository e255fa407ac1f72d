"""Held-out: retry schedules and the breaker with other budgets and cooldowns."""

from __future__ import annotations

import pytest

from shared.clients.base import CircuitBreaker
from shared.errors import ServiceUnavailableError
from shared.utils.timeutils import FakeClock
from tests.utils.clients import ScriptedTransport, make_client, no_jitter_policy, recorded_sleeps

pytestmark = pytest.mark.gateway


def test_three_attempt_budget_makes_three_calls_with_growing_pauses():
    sleeps, sleeper = recorded_sleeps()
    transport = ScriptedTransport([503] * 6)
    policy = no_jitter_policy(max_attempts=3, backoff=0.25, multiplier=3.0, max_backoff=10.0)
    response = make_client(transport=transport, sleeper=sleeper, retry=policy).get("/y")
    assert response.status_code == 503
    assert transport.calls == 3
    assert sleeps == pytest.approx([0.25, 0.75])


def test_failed_probe_after_a_cooldown_reaches_the_upstream_once():
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=20.0, clock=clock)
    transport = ScriptedTransport([504] * 12)
    client = make_client(transport=transport, breaker=breaker, retry=no_jitter_policy())
    with pytest.raises(ServiceUnavailableError, match="circuit open"):
        client.get("/z")
    assert transport.calls == 3
    clock.advance(20.0)
    with pytest.raises(ServiceUnavailableError, match="circuit open"):
        client.get("/z")
    assert transport.calls == 4
    assert breaker.state == CircuitBreaker.OPEN
