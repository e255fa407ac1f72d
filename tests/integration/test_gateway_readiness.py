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
    assert env.upstream_requests("storage") == []


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
