"""Work the gateway does per request, counted in upstream calls and clients built."""

from __future__ import annotations

import pytest

from tests.utils.gateway import make_gateway_env
from tests.utils.models import model_payload

pytestmark = pytest.mark.gateway


@pytest.fixture
def gw():
    env = make_gateway_env()
    yield env
    env.client.close()


def test_each_proxied_request_makes_exactly_one_upstream_call(gw):
    gw.client.post("/api/models/api/v1/models", json=model_payload())
    gw.client.get("/api/models/api/v1/models")
    gw.client.get("/api/registry/echo")
    gw.client.get("/api/models/api/v1/models/missing")
    assert len(gw.transport.requests) == 4


def test_failing_upstream_is_called_once_per_request_without_sleeping(gw):
    response = gw.client.get("/api/registry/fail/503")
    assert response.status_code == 503
    assert len(gw.transport.requests) == 1
    assert gw.sleeps == []


def test_services_health_calls_each_upstream_once(gw):
    gw.client.get("/health/services")
    hosts = [r.url.host for r in gw.transport.requests]
    assert sorted(hosts) == ["models", "registry", "scheduler"]


def test_one_client_per_service_is_built_and_reused(gw):
    for _ in range(3):
        gw.client.get("/api/registry/echo")
    gw.client.get("/api/models/api/v1/models")
    gw.client.get("/api/registry/echo")
    assert gw.built == ["registry", "models"]


def test_unknown_service_builds_no_client(gw):
    gw.client.get("/api/unknown/x")
    assert gw.built == []
