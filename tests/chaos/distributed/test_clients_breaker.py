"""Circuit breaker transitions measured with an injected clock."""

from __future__ import annotations

import threading

import httpx
import pytest

from shared.clients.base import CircuitBreaker
from shared.errors import ServiceUnavailableError
from shared.utils.timeutils import FakeClock
from tests.utils.clients import ScriptedTransport, make_client, no_jitter_policy

pytestmark = pytest.mark.gateway


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=3, reset_timeout=30.0, clock=clock)


def _single_try(transport, breaker):
    return make_client(transport=transport, breaker=breaker, retry=no_jitter_policy(max_attempts=1))


def test_breaker_opens_after_consecutive_failures(breaker):
    client = _single_try(ScriptedTransport([500, 502, 503]), breaker)
    for _ in range(2):
        client.get("/x")
        assert breaker.state == CircuitBreaker.CLOSED
    client.get("/x")
    assert breaker.state == CircuitBreaker.OPEN


def test_success_resets_the_failure_count(breaker):
    client = _single_try(ScriptedTransport([500, 500, 200, 500, 500]), breaker)
    for _ in range(5):
        client.get("/x")
    assert breaker.state == CircuitBreaker.CLOSED


def test_client_errors_do_not_count_as_failures(breaker):
    client = _single_try(ScriptedTransport([404, 409, 422, 400]), breaker)
    for _ in range(4):
        client.get("/x")
    assert breaker.state == CircuitBreaker.CLOSED


def test_open_breaker_rejects_without_calling_the_transport(breaker):
    transport = ScriptedTransport([httpx.ConnectError] * 3)
    client = _single_try(transport, breaker)
    for _ in range(3):
        with pytest.raises(ServiceUnavailableError, match="unreachable"):
            client.get("/x")
    with pytest.raises(ServiceUnavailableError, match="circuit open"):
        client.get("/x")
    assert transport.calls == 3


def test_breaker_half_opens_when_the_cooldown_ends(breaker, clock):
    for _ in range(3):
        breaker.record_failure()
    clock.advance(29.9)
    assert breaker.state == CircuitBreaker.OPEN
    clock.advance(0.1)
    assert breaker.state == CircuitBreaker.HALF_OPEN


def test_successful_probe_closes_the_breaker(breaker, clock):
    transport = ScriptedTransport([500, 500, 500, 200])
    client = _single_try(transport, breaker)
    for _ in range(3):
        client.get("/x")
    clock.advance(30)
    assert client.get("/x").status_code == 200
    assert breaker.state == CircuitBreaker.CLOSED


def test_failed_probe_reopens_for_a_full_cooldown(breaker, clock):
    client = _single_try(ScriptedTransport([500, 500, 500, 503]), breaker)
    for _ in range(3):
        client.get("/x")
    clock.advance(30)
    client.get("/x")
    assert breaker.state == CircuitBreaker.OPEN
    clock.advance(29)
    assert breaker.state == CircuitBreaker.OPEN


def test_recovering_upstream_gets_one_request_until_it_answers(breaker, clock):
    transport = ScriptedTransport([500, 500, 500])
    client = _single_try(transport, breaker)
    for _ in range(3):
        client.get("/x")
    clock.advance(30)
    transport.gate = threading.Event()
    probe = threading.Thread(target=client.get, args=("/x",))
    probe.start()
    assert transport.entered.wait(timeout=5)
    try:
        with pytest.raises(ServiceUnavailableError, match="half-open"):
            client.get("/x")
    finally:
        transport.gate.set()
        probe.join(timeout=5)
    assert transport.calls == 4
    assert breaker.state == CircuitBreaker.CLOSED
