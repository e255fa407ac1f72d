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
