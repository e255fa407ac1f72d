"""Gateway defences: API keys, path traversal, oversized and malformed bodies, header hygiene."""

from __future__ import annotations

import pytest

from tests.utils.gateway import make_gateway_env

pytestmark = pytest.mark.gateway

KEY = "k-3f9a2c"


@pytest.fixture
def gw():
    env = make_gateway_env(max_body_bytes=1024)
    yield env
    env.client.close()


@pytest.fixture
def locked():
    env = make_gateway_env(require_auth=True, api_keys=frozenset({KEY, "k-second"}))
    yield env
    env.client.close()


def test_request_without_api_key_is_401_and_not_forwarded(locked):
    response = locked.client.get("/api/registry/me")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"
    assert locked.transport.requests == []


@pytest.mark.parametrize("key", ["wrong", "", KEY + "x", KEY[:-1], KEY.upper()])
def test_request_with_a_wrong_api_key_is_401(locked, key):
    response = locked.client.get("/api/registry/me", headers={"X-API-Key": key})
    assert response.status_code == 401
    assert locked.transport.requests == []


@pytest.mark.parametrize("key", [KEY, "k-second"])
def test_request_with_a_configured_api_key_is_forwarded(locked, key):
    response = locked.client.get("/api/registry/me", headers={"X-API-Key": key})
    assert response.status_code == 200


def test_api_key_stays_at_the_gateway_while_authorization_is_forwarded(locked):
    headers = {"X-API-Key": KEY, "Authorization": "Bearer end-user"}
    seen = locked.client.get("/api/registry/me", headers=headers).json()["headers"]
    assert "x-api-key" not in seen
    assert seen["authorization"] == "Bearer end-user"


def test_services_health_needs_a_key_but_health_does_not(locked):
    assert locked.client.get("/health/services").status_code == 401
    assert locked.client.get("/health").status_code == 200
    ok = locked.client.get("/health/services", headers={"X-API-Key": KEY})
    assert ok.status_code == 200


def test_auth_cannot_be_required_without_keys():
    with pytest.raises(ValueError, match="API key"):
        make_gateway_env(require_auth=True, api_keys=frozenset({"  "}))


@pytest.mark.parametrize(
    "path",
    [
        "/api/models/%2e%2e/%2e%2e/x",
        "/api/registry/a/..%2F..%2Fadmin",
        "/api/registry/.%2e/secret",
        "/api/registry/a/%2e/b",
        "/api/registry/a%5C..%5Cb",
        "/api/registry/a%00b",
    ],
)
def test_traversal_in_proxied_path_is_refused_before_forwarding(gw, path):
    response = gw.client.get(path)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert gw.transport.requests == []


def test_literal_dot_segments_never_reach_an_upstream(gw):
    response = gw.client.get("/api/models/../../health")
    assert response.json() == {"service": "gateway", "status": "ok"}
    assert gw.transport.requests == []


def test_double_slash_path_stays_on_the_named_service(gw):
    body = gw.client.get("/api/registry//evil.example/steal").json()
    sent = gw.transport.requests[-1]
    assert sent.url.host == "registry"
    assert body["path"] == "/evil.example/steal"


def test_file_names_with_dots_reach_the_upstream_unchanged(gw):
    body = gw.client.get("/api/registry/releases/v1..2/.hidden.cfg").json()
    assert body["path"] == "/releases/v1..2/.hidden.cfg"


def test_encoded_question_mark_stays_in_the_path(gw):
    body = gw.client.get("/api/registry/a%3Fadmin=1").json()
    assert (body["path"], body["query"]) == ("/a?admin=1", "")
    assert body["raw_path"] == "/a%3Fadmin=1"


def test_oversized_body_is_413_and_not_forwarded(gw):
    response = gw.client.post("/api/registry/items", json={"blob": "x" * 2000})
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert gw.transport.requests == []


def test_oversized_streamed_body_without_length_is_413(gw):
    stream = iter([b'{"blob": "', b"y" * 1500, b'"}'])
    response = gw.client.post(
        "/api/registry/items", content=stream, headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert gw.transport.requests == []


@pytest.mark.parametrize(
    "content",
    [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": ', b"[" * 2000 + b"]" * 2000],
    ids=["nan", "infinity", "truncated", "too-deep"],
)
def test_malformed_json_bodies_are_400_and_not_forwarded(content):
    env = make_gateway_env(max_body_bytes=8192)
    response = env.client.post(
        "/api/registry/items", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"
    assert response.headers["content-type"] == "application/problem+json"
    assert env.transport.requests == []


def test_non_json_bodies_are_415(gw):
    response = gw.client.post(
        "/api/registry/items", content=b"<xml/>", headers={"Content-Type": "application/xml"}
    )
    assert response.status_code == 415
    assert gw.transport.requests == []


def test_cookies_are_not_forwarded_upstream(gw):
    seen = gw.client.get("/api/registry/me", headers={"Cookie": "session=abc"}).json()["headers"]
    assert "cookie" not in seen


def test_body_of_exactly_the_limit_is_forwarded_whole(gw):
    content = b'{"blob": "' + b"z" * (1024 - 12) + b'"}'
    assert len(content) == 1024
    response = gw.client.post(
        "/api/registry/items", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json()["json"] == {"blob": "z" * 1012}


def test_streamed_body_of_exactly_the_limit_is_forwarded_whole(gw):
    stream = iter([b'{"blob": "', b"w" * 1012, b'"}'])
    response = gw.client.post(
        "/api/registry/items", content=stream, headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 200
    assert response.json()["json"] == {"blob": "w" * 1012}
