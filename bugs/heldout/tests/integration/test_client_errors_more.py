"""Held-out: upstream refusals mapped to platform errors on another service and transport."""

from __future__ import annotations

import pytest

from shared.errors import AuthenticationError, PermissionDeniedError
from tests.utils.clients import ScriptedTransport, make_client, no_jitter_policy

pytestmark = pytest.mark.gateway


def test_a_scripted_403_from_the_models_service_is_a_permission_error_not_an_auth_error():
    client = make_client(
        "models", transport=ScriptedTransport([403]), retry=no_jitter_policy(max_attempts=1)
    )
    with pytest.raises(PermissionDeniedError) as info:
        client.get_json("/v1/models/x")
    assert not isinstance(info.value, AuthenticationError)
    assert info.value.status_code == 403


def test_caller_authorization_in_upper_case_wins_over_the_service_default():
    client = make_client("models", default_headers={"authorization": "Bearer svc-default"})
    seen = client.post_json("/echo", json={"n": 1}, headers={"AUTHORIZATION": "Bearer caller"})
    assert seen["headers"]["authorization"] == "Bearer caller"
