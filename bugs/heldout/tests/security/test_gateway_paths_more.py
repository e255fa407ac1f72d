"""Held-out: proxied paths and forwarded credentials on other services and encodings."""

from __future__ import annotations

import pytest

from tests.utils.gateway import make_gateway_env

pytestmark = pytest.mark.gateway


@pytest.fixture
def gw():
    env = make_gateway_env()
    yield env
    env.client.close()


def test_encoded_dot_segments_toward_another_service_are_refused(gw):
    for path in [
        "/api/models/v1/%2E%2E/%2E%2E/admin",
        "/api/registry/x/y/%2e%2E/z",
        "/api/models/%2e/a",
    ]:
        response = gw.client.get(path)
        assert response.status_code == 400, path
    assert gw.transport.requests == []


def test_basic_and_bearer_credentials_reach_the_upstream_on_deeper_paths(gw):
    for value in ("Basic dXNlcjpwdw==", "Bearer abc.def.ghi"):
        seen = gw.client.post("/api/registry/v2/users/7", json={}, headers={"authorization": value})
        seen = seen.json()
        assert seen["headers"]["authorization"] == value
