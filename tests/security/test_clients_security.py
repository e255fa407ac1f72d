"""The service client never sends credentials or headers anywhere it was not asked to."""

from __future__ import annotations

import httpx
import pytest

from shared.clients.base import ServiceClient, StaticDiscovery
from shared.clients.inprocess import InProcessTransport
from shared.errors import ValidationError
from shared.web import create_service_app
from tests.utils.clients import ScriptedTransport, make_client, make_upstream_app

pytestmark = pytest.mark.gateway


@pytest.mark.parametrize("value", ["Bearer t\r\nX-Admin: 1", "abc\nSet-Cookie: s=1", "a\0b"])
def test_header_values_with_line_breaks_are_refused(value):
    transport = ScriptedTransport()
    with pytest.raises(ValidationError, match="line break"):
        make_client(transport=transport).get("/x", headers={"Authorization": value})
    assert transport.calls == 0


def test_default_header_with_a_line_break_is_refused_at_construction():
    with pytest.raises(ValidationError):
        make_client(transport=ScriptedTransport(), default_headers={"X-Tenant": "a\r\nb"})


@pytest.mark.parametrize("base", ["file:///etc/passwd", "ftp://registry", "gopher://x:70"])
def test_non_http_service_addresses_are_refused(base):
    transport = ScriptedTransport()
    client = ServiceClient(
        "registry", discovery=StaticDiscovery({"registry": base}), transport=transport
    )
    with pytest.raises(ValidationError, match="unsupported URL"):
        client.get("/health")
    assert transport.calls == 0


@pytest.mark.parametrize("path", ["http://evil.example/steal", "//evil.example/steal", "health"])
def test_paths_that_are_not_service_relative_are_refused(path):
    transport = ScriptedTransport()
    client = make_client(transport=transport, default_headers={"Authorization": "Bearer svc"})
    with pytest.raises(ValidationError, match="relative"):
        client.get(path)
    assert transport.calls == 0


def test_redirects_are_not_followed_to_another_host():
    evil = ScriptedTransport()
    redirecting = ScriptedTransport([(302, {"Location": "http://evil/collect"})])
    transport = InProcessTransport({"registry": redirecting, "evil": evil})
    response = make_client(transport=transport).get("/x", headers={"Authorization": "Bearer t"})
    assert response.status_code == 302
    assert evil.calls == 0


def test_requests_go_only_to_the_resolved_service_host():
    registry, models = ScriptedTransport(), ScriptedTransport()
    transport = InProcessTransport({"registry": registry, "models": models})
    make_client("models", transport, default_headers={"Authorization": "Bearer m"}).get("/a")
    assert models.calls == 1 and registry.calls == 0
    assert models.requests[0].url == httpx.URL("http://models/a")


def test_upstream_permission_denial_reaches_the_caller_as_forbidden():
    discovery = StaticDiscovery({"registry": "http://registry", "gateway": "http://gateway"})
    gateway = create_service_app("gateway")
    transport = InProcessTransport({"registry": make_upstream_app(), "gateway": gateway})

    @gateway.delete("/models/{name}")
    def delete_model(name: str) -> dict:
        registry = ServiceClient("registry", discovery=discovery, transport=transport)
        return registry.get_json("/errors/403")

    caller = ServiceClient("gateway", discovery=discovery, transport=transport)
    response = caller.delete("/models/iris", headers={"Authorization": "Bearer viewer"})
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "forbidden"
    assert body["detail"] == "role viewer cannot delete models"
