"""Held-out: API keys configured on the app, checked on another route and method."""

from __future__ import annotations

import pytest

from tests.utils.gateway import make_gateway_env

pytestmark = pytest.mark.gateway


def test_registration_posted_with_another_deployments_key_is_refused_unforwarded():
    env = make_gateway_env(require_auth=True, api_keys=frozenset({"tok-inference-9"}))
    path = "/api/registry/api/v1/registered-models/ltv/versions"
    body = {"artifact_uri": "s3://b/ltv.npz"}
    refused = env.client.post(path, json=body, headers={"X-API-Key": "tok-inference-8"})
    assert refused.status_code == 401
    assert refused.json()["error"] == "unauthenticated"
    assert env.transport.requests == []
    accepted = env.client.post(path, json=body, headers={"X-API-Key": "tok-inference-9"})
    assert accepted.status_code != 401
    assert len(env.transport.requests) == 1
    env.client.close()
