"""The service client against real in-process FastAPI and WSGI apps."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import Request

from shared.clients.base import CORRELATION_HEADER, ServiceClient, StaticDiscovery
from shared.clients.inprocess import ASGIBridgeTransport, InProcessTransport
from shared.errors import NotFoundError, ServiceUnavailableError
from shared.web import create_service_app
from tests.utils.clients import make_client, make_upstream_app, make_wsgi_app

pytestmark = pytest.mark.gateway


def test_get_json_round_trips_query_parameters():
    body = make_client().get_json("/echo", params={"owner": "ana", "limit": 5})
    assert body["method"] == "GET"
    assert body["query"] == {"owner": "ana", "limit": "5"}


def test_post_json_delivers_the_json_body():
    payload = {"name": "iris", "tags": ["a", "b"], "input_schema": {"features": ["x1"]}}
    body = make_client().post_json("/echo", json=payload)
    assert body["method"] == "POST"
    assert body["json"] == payload


def test_authorization_and_correlation_id_reach_the_upstream():
    headers = {"Authorization": "Bearer user-token", CORRELATION_HEADER: "corr-123"}
    seen = make_client().get_json("/echo", headers=headers)["headers"]
    assert seen["authorization"] == "Bearer user-token"
    assert seen["x-correlation-id"] == "corr-123"


def test_correlation_id_is_generated_when_absent():
    client = make_client()
    first = client.get_json("/echo")["headers"]["x-correlation-id"]
    second = client.get_json("/echo")["headers"]["x-correlation-id"]
    assert len(first) == 32 and first != second


def test_default_headers_are_sent_with_every_request():
    client = make_client(default_headers={"Authorization": "Bearer service-token"})
    seen = client.get_json("/echo")["headers"]
    assert seen["authorization"] == "Bearer service-token"


def test_call_authorization_overrides_the_default_authorization():
    client = make_client(default_headers={"Authorization": "Bearer service-token"})
    seen = client.get_json("/echo", headers={"Authorization": "Bearer user-token"})["headers"]
    assert seen["authorization"] == "Bearer user-token"


def test_upstream_receives_only_the_callers_credentials():
    client = make_client(default_headers={"Authorization": "Bearer service-token"})
    response = client.get("/echo", headers={"authorization": "Bearer user-token"})
    assert response.request.headers.get_list("authorization") == ["Bearer user-token"]


def test_wsgi_app_receives_path_query_headers_and_body():
    client = make_client("legacy", apps={"legacy": make_wsgi_app()})
    body = client.put_json(
        "/v1/items/7",
        params={"dry": "1"},
        json={"qty": 2},
        headers={"Authorization": "Bearer t", CORRELATION_HEADER: "c-1"},
    )
    assert body == {
        "service": "legacy",
        "method": "PUT",
        "path": "/v1/items/7",
        "query": "dry=1",
        "authorization": "Bearer t",
        "correlation_id": "c-1",
        "json": {"qty": 2},
    }


def test_wsgi_not_found_maps_to_not_found_error():
    client = make_client("legacy", apps={"legacy": make_wsgi_app()})
    with pytest.raises(NotFoundError, match="no such page"):
        client.get_json("/missing")


def test_delete_json_returns_none_for_no_content():
    assert make_client().delete_json("/empty") is None


def test_client_inside_a_sync_route_reaches_another_app():
    discovery = StaticDiscovery({"registry": "http://registry", "gateway": "http://gateway"})
    gateway = create_service_app("gateway")
    transport = InProcessTransport({"registry": make_upstream_app(), "gateway": gateway})

    @gateway.get("/relay")
    def relay(request: Request) -> dict:
        upstream = ServiceClient("registry", discovery=discovery, transport=transport)
        auth = {"Authorization": request.headers["authorization"]}
        return upstream.get_json("/echo", headers=auth)

    outer = ServiceClient("gateway", discovery=discovery, transport=transport)
    body = outer.get_json("/relay", headers={"Authorization": "Bearer nested"})
    assert body["service"] == "registry"
    assert body["headers"]["authorization"] == "Bearer nested"


def test_client_called_from_async_code_reaches_the_app():
    # The caller's loop is blocked in the call, so the app cannot run on it.
    async def caller() -> dict:
        return make_client().get_json("/echo", params={"from": "async"})

    assert asyncio.run(caller())["query"] == {"from": "async"}


def test_a_call_leaves_the_callers_own_event_loop_set():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        assert make_client().get_json("/health")["status"] == "ok"
        assert asyncio.get_event_loop() is loop
        assert not loop.is_closed()
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def test_unknown_host_is_reported_unavailable():
    transport = InProcessTransport({"registry": make_upstream_app()})
    client = make_client("models", transport)
    with pytest.raises(ServiceUnavailableError, match="models is unreachable"):
        client.get("/health")


def test_health_endpoint_answers_through_the_transport():
    assert make_client().get_json("/health") == {"service": "registry", "status": "ok"}


def test_an_app_failing_without_a_problem_handler_answers_500_to_the_client():
    async def crashing(scope, receive, send):
        raise RuntimeError("boom")

    routed = httpx.Client(transport=InProcessTransport({"bare": crashing}))
    direct = httpx.Client(transport=ASGIBridgeTransport(crashing))
    assert routed.get("http://bare/anything").status_code == 500
    assert direct.get("http://bare/anything").status_code == 500
