"""Retries: exponential backoff schedule, jitter, Retry-After, idempotency, header stability."""

from __future__ import annotations

import httpx
import pytest

from shared.clients.base import CORRELATION_HEADER
from shared.utils.timeutils import FakeClock
from tests.utils.clients import (
    ScriptedTransport,
    make_client,
    no_jitter_policy,
    recorded_sleeps,
    seeded_policy,
)

pytestmark = pytest.mark.gateway


def test_backoff_schedule_doubles_from_the_base_delay():
    sleeps, sleeper = recorded_sleeps()
    transport = ScriptedTransport([503, 503, 503])
    response = make_client(transport=transport, sleeper=sleeper).get("/x")
    assert response.status_code == 200
    assert sleeps == pytest.approx([0.1, 0.2, 0.4])
    assert transport.calls == 4


def test_backoff_is_capped_at_the_maximum():
    policy = no_jitter_policy(max_attempts=6, backoff=0.5, max_backoff=1.5)
    assert [policy.backoff_delay(n) for n in range(1, 6)] == [0.5, 1.0, 1.5, 1.5, 1.5]


def test_jitter_is_reproducible_from_a_seeded_generator():
    first, second = seeded_policy(7, jitter=0.5), seeded_policy(7, jitter=0.5)
    schedule = [first.backoff_delay(n) for n in (1, 2, 3)]
    assert [second.backoff_delay(n) for n in (1, 2, 3)] == schedule
    assert schedule != pytest.approx([0.1, 0.2, 0.4])


def test_jitter_stays_within_its_fraction_of_the_delay():
    policy = seeded_policy(11, jitter=0.25, backoff=1.0, max_backoff=100.0)
    delays = [policy.backoff_delay(1) for _ in range(200)]
    assert min(delays) >= 0.75 and max(delays) <= 1.25
    assert max(delays) - min(delays) > 0.3


def test_retry_after_header_sets_the_pause():
    sleeps, sleeper = recorded_sleeps()
    transport = ScriptedTransport([(503, {"Retry-After": "3"})])
    make_client(transport=transport, sleeper=sleeper).get("/x")
    assert sleeps == [3.0]


def test_retry_after_is_capped():
    sleeps, sleeper = recorded_sleeps()
    transport = ScriptedTransport([(503, {"Retry-After": "86400"})])
    retry = no_jitter_policy(max_retry_after=10.0)
    make_client(transport=transport, sleeper=sleeper, retry=retry).get("/x")
    assert sleeps == [10.0]


def test_post_is_not_retried_on_service_unavailable():
    transport = ScriptedTransport([503])
    response = make_client(transport=transport).post("/jobs", json={"model_name": "iris"})
    assert response.status_code == 503
    assert transport.calls == 1


def test_client_errors_are_not_retried():
    transport = ScriptedTransport([404])
    assert make_client(transport=transport).get("/x").status_code == 404
    assert transport.calls == 1


def test_connect_error_is_retried_until_the_service_answers():
    transport = ScriptedTransport([httpx.ConnectError, httpx.ConnectError])
    assert make_client(transport=transport).get_json("/x") == {"attempt": 3}


def test_last_response_is_returned_when_attempts_run_out():
    sleeps, sleeper = recorded_sleeps()
    transport = ScriptedTransport([502, 503, 504, 503])
    response = make_client(transport=transport, sleeper=sleeper).get("/x")
    assert response.status_code == 503
    assert len(sleeps) == 3


def test_retries_keep_the_same_correlation_id():
    transport = ScriptedTransport([503, 503])
    make_client(transport=transport).get("/x")
    ids = {request.headers[CORRELATION_HEADER] for request in transport.requests}
    assert len(ids) == 1 and len(transport.requests) == 3


def test_retries_keep_the_callers_authorization():
    transport = ScriptedTransport([503, 502])
    client = make_client(transport=transport, default_headers={"Authorization": "Bearer svc"})
    client.delete("/x", headers={"Authorization": "Bearer user"})
    assert [r.headers["authorization"] for r in transport.requests] == ["Bearer user"] * 3


def test_deadline_stops_retrying_before_the_budget_is_exceeded():
    clock = FakeClock()
    transport = ScriptedTransport([503] * 10)
    retry = no_jitter_policy(max_attempts=10, backoff=1.0, max_backoff=100.0, deadline=5.0)
    client = make_client(transport=transport, sleeper=clock.sleep, clock=clock, retry=retry)
    assert client.get("/x").status_code == 503
    assert clock.sleeps == [1.0, 2.0]
