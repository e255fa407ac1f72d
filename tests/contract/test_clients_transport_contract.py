"""InProcessTransport answers like a network server whatever kind of app sits behind a host."""

from __future__ import annotations

import httpx
import pytest

from shared.clients.inprocess import InProcessTransport, is_asgi_app
from tests.utils.clients import ScriptedTransport, make_upstream_app, make_wsgi_app

pytestmark = pytest.mark.gateway


@pytest.fixture
def transport() -> InProcessTransport:
    return InProcessTransport({"registry": make_upstream_app(), "legacy": make_wsgi_app()})


@pytest.mark.parametrize("host", ["registry", "legacy"])
def test_every_app_kind_returns_a_readable_json_response(transport, host):
    with httpx.Client(transport=transport) as client:
        response = client.post(f"http://{host}/echo", json={"k": [1, 2]})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["json"] == {"k": [1, 2]}


def test_error_responses_carry_the_problem_shape(transport):
    with httpx.Client(transport=transport) as client:
        response = client.get("http://registry/errors/404")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "model 'iris' not found"}


def test_unknown_host_raises_connect_error(transport):
    with httpx.Client(transport=transport) as client, pytest.raises(httpx.ConnectError):
        client.get("http://training/health")


def test_host_matching_ignores_case(transport):
    with httpx.Client(transport=transport) as client:
        assert client.get("http://REGISTRY/health").status_code == 200


def test_unmounted_host_stops_answering(transport):
    transport.unmount("legacy")
    assert transport.hosts == ["registry"]
    with httpx.Client(transport=transport) as client, pytest.raises(httpx.ConnectError):
        client.get("http://legacy/echo")


def test_ready_transports_are_used_as_they_are():
    scripted = ScriptedTransport([418])
    with httpx.Client(transport=InProcessTransport({"teapot": scripted})) as client:
        assert client.get("http://teapot/brew").status_code == 418
    assert scripted.calls == 1


def test_unhandled_app_exception_becomes_a_server_error():
    app = make_upstream_app()

    @app.get("/crash")
    def crash() -> dict:
        raise RuntimeError("boom")

    with httpx.Client(transport=InProcessTransport({"registry": app})) as client:
        assert client.get("http://registry/crash").status_code == 500


def test_app_kind_detection():
    assert is_asgi_app(make_upstream_app())
    assert not is_asgi_app(make_wsgi_app())
    with pytest.raises(TypeError):
        InProcessTransport({"x": object()})
