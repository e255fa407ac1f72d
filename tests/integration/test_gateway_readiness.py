"""The gateway's /ready: ready when every built service it routes to answers ready."""

from __future__ import annotations

import pytest

from services.models.store import Base
from tests.utils.gateway import make_gateway_env

pytestmark = pytest.mark.gateway


def test_gateway_is_ready_when_every_built_upstream_is_and_asks_no_service_still_to_come():
    env = make_gateway_env()
    response = env.client.get("/ready")
    assert response.status_code == 200
    assert sorted(response.json()["checks"]) == ["models", "registry"]
    assert env.upstream_requests("scheduler") == []


def test_gateway_names_the_upstream_that_is_not_ready_and_its_failing_check():
    env = make_gateway_env()
    Base.metadata.drop_all(env.models.engine)
    response = env.client.get("/ready")
    assert response.status_code == 503
    assert response.json()["failing"] == ["models"]
    assert "failing: database" in response.json()["checks"]["models"]["detail"]


def test_gateway_asks_each_upstream_once_per_readiness_probe():
    env = make_gateway_env()
    Base.metadata.drop_all(env.models.engine)
    env.client.get("/ready")
    # A readiness probe that retried would double the load on a service already struggling.
    assert [r.url.path for r in env.upstream_requests("models")] == ["/ready"]
    assert [r.url.path for r in env.upstream_requests("registry")] == ["/ready"]


def test_failing_readiness_probes_never_open_the_breaker_of_proxied_calls():
    env = make_gateway_env(breaker_failure_threshold=3)
    Base.metadata.drop_all(env.models.engine)
    for _ in range(10):
        assert env.client.get("/ready").status_code == 503
    Base.metadata.create_all(env.models.engine)
    response = env.client.get("/api/models/api/v1/models")
    assert response.status_code == 200
    assert [r.url.path for r in env.upstream_requests("models")][-1] == "/api/v1/models"


def test_readiness_reports_the_upstreams_answer_while_its_proxy_breaker_is_open():
    env = make_gateway_env(breaker_failure_threshold=3)
    for _ in range(3):
        env.client.get("/api/registry/fail/503")
    assert "circuit open" in env.client.get("/api/registry/echo").json()["detail"]
    response = env.client.get("/ready")
    assert response.status_code == 200
    assert [r.url.path for r in env.upstream_requests("registry")][-1] == "/ready"
