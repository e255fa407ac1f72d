"""Held-out: retry schedules and the half-open breaker with other budgets and cooldowns."""

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


def test_half_open_breaker_admits_exactly_one_probe_however_often_it_is_asked():
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=12.0, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    clock.advance(12.0)
    breaker.before_call("models")
    for _ in range(3):
        assert breaker.state == CircuitBreaker.HALF_OPEN
        with pytest.raises(ServiceUnavailableError):
            breaker.before_call("models")
    breaker.record_success()
    assert breaker.state == CircuitBreaker.CLOSED
