"""Held-out: requests that carry no API key at all, on another route, method and key set."""

from __future__ import annotations

import pytest

from tests.utils.gateway import make_gateway_env

pytestmark = pytest.mark.gateway


def test_a_keyless_deletion_never_reaches_the_registry_of_a_locked_gateway():
    env = make_gateway_env(require_auth=True, api_keys=frozenset({"ops-2024-b7"}))
    path = "/api/registry/api/v1/registered-models/ltv/versions/3"
    refused = env.client.delete(path)
    assert refused.status_code == 401
    assert refused.json()["error"] == "unauthenticated"
    assert env.transport.requests == []
    allowed = env.client.delete(path, headers={"X-API-Key": "ops-2024-b7"})
    assert allowed.status_code != 401
    assert len(env.transport.requests) == 1
    env.client.close()
