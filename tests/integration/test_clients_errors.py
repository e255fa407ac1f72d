"""Upstream 4xx/5xx answers become platform errors that keep the upstream detail."""

from __future__ import annotations

import httpx
import pytest
from fastapi import Body

from shared.clients.base import UpstreamTimeoutError
from shared.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    UpstreamError,
    ValidationError,
)
from tests.utils.clients import ScriptedTransport, make_client, make_upstream_app

pytestmark = pytest.mark.gateway


def test_not_found_keeps_the_upstream_message():
    with pytest.raises(NotFoundError) as info:
        make_client().get_json("/errors/404")
    assert info.value.message == "model 'iris' not found"
    assert info.value.details == {"service": "registry", "status": 404, "error": "not_found"}


def test_conflict_keeps_the_upstream_details():
    with pytest.raises(ConflictError) as info:
        make_client().get_json("/errors/409")
    assert info.value.details["details"] == {"name": "iris"}


def test_unprocessable_maps_to_validation_error():
    with pytest.raises(ValidationError, match="classification or regression"):
        make_client().get_json("/errors/422")


def test_upstream_refusing_a_role_reaches_the_caller_as_403():
    with pytest.raises(PermissionDeniedError) as info:
        make_client().get_json("/errors/403")
    assert info.value.status_code == 403
    assert info.value.message == "role viewer cannot delete models"


def test_unauthorized_maps_to_authentication_error():
    with pytest.raises(AuthenticationError) as info:
        make_client().get_json("/errors/401")
    assert info.value.status_code == 401


def test_server_error_maps_to_upstream_error_with_status():
    with pytest.raises(UpstreamError) as info:
        make_client().get_json("/errors/500")
    assert info.value.status_code == 502
    assert info.value.details["status"] == 500


def test_request_validation_detail_list_is_preserved():
    app = make_upstream_app()

    @app.post("/typed")
    def typed(n: int = Body(..., embed=True)) -> dict:
        return {"n": n}

    with pytest.raises(ValidationError) as info:
        make_client(apps={"registry": app}).post_json("/typed", json={"n": "seven"})
    assert info.value.details["details"][0]["loc"] == ["body", "n"]


def test_non_json_success_body_is_an_upstream_error():
    transport = ScriptedTransport()
    transport.handle_request = lambda request: httpx.Response(200, text="<html>")
    with pytest.raises(UpstreamError, match="not JSON"):
        make_client(transport=transport).get_json("/x")


def test_timeout_maps_to_gateway_timeout():
    transport = ScriptedTransport([httpx.ReadTimeout] * 4)
    with pytest.raises(UpstreamTimeoutError) as info:
        make_client(transport=transport).get("/slow")
    assert info.value.status_code == 504
