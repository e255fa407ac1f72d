"""Gateway in front of in-process services: forwarding, headers, correlation and failures."""

from __future__ import annotations

import uuid

import pytest

from tests.utils.gateway import make_gateway_env
from tests.utils.models import model_payload

pytestmark = pytest.mark.gateway

MODELS = "/api/models/api/v1/models"


@pytest.fixture
def gw():
    env = make_gateway_env()
    yield env
    env.client.close()


def test_creating_a_model_through_the_gateway_reaches_the_models_service(gw):
    response = gw.client.post(MODELS, json=model_payload(name="via-gateway"))
    assert response.status_code == 201
    assert response.json()["name"] == "via-gateway"
    assert response.headers["content-type"] == "application/json"
    assert gw.models.client.get("/api/v1/models/via-gateway").status_code == 200


def test_query_string_reaches_the_upstream(gw):
    for name in ("model-a", "model-b", "model-c"):
        gw.models.create(name=name, owner="ops")
    body = gw.client.get(MODELS, params={"limit": 1, "offset": 1, "owner": "ops"}).json()
    assert [m["name"] for m in body["items"]] == ["model-b"]
    assert (body["total"], body["limit"]) == (3, 1)


def test_repeated_query_keys_keep_their_order(gw):
    response = gw.client.get("/api/registry/things?tag=a&tag=b&x=1")
    assert response.json()["query"] == "tag=a&tag=b&x=1"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
def test_method_and_json_body_are_preserved(gw, method):
    response = gw.client.request(method, "/api/registry/items/7", json={"n": 1.5, "s": "é"})
    body = response.json()
    assert (body["method"], body["path"]) == (method, "/items/7")
    assert body["json"] == {"n": 1.5, "s": "é"}


def test_upstream_not_found_passes_through_with_its_body(gw):
    response = gw.client.get(f"{MODELS}/missing-model")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "model 'missing-model' not found"}


def test_upstream_conflict_passes_through(gw):
    gw.models.create(name="taken-name")
    response = gw.client.post(MODELS, json=model_payload(name="taken-name"))
    assert (response.status_code, response.json()["error"]) == (409, "conflict")


def test_upstream_validation_errors_pass_through(gw):
    response = gw.client.post(MODELS, json=model_payload(name="Bad Name"))
    assert response.status_code == 422
    assert response.json()["details"][0]["loc"] == ["body", "name"]


def test_empty_204_answer_passes_through(gw):
    gw.models.create(name="short-lived")
    response = gw.client.delete(f"{MODELS}/short-lived")
    assert (response.status_code, response.content) == (204, b"")


def test_upstream_server_errors_keep_status_body_and_headers(gw):
    response = gw.client.get("/api/registry/fail/500")
    assert response.status_code == 500
    assert response.json()["error"] == "upstream_says_no"
    assert response.headers["retry-after"] == "7"


def test_non_json_answers_keep_their_content_type(gw):
    response = gw.client.get("/api/registry/text")
    assert (response.status_code, response.text) == (202, "plain words")
    assert response.headers["content-type"].startswith("text/plain")


def test_authorization_header_reaches_the_upstream(gw):
    response = gw.client.get("/api/registry/me", headers={"Authorization": "Bearer user-token"})
    assert response.json()["headers"]["authorization"] == "Bearer user-token"


def test_authorization_reaches_the_upstream_with_a_caller_correlation_id(gw):
    headers = {"Authorization": "Bearer t2", "X-Correlation-ID": "req-42"}
    seen = gw.client.get("/api/registry/me", headers=headers).json()["headers"]
    assert (seen["authorization"], seen["x-correlation-id"]) == ("Bearer t2", "req-42")


def test_correlation_id_is_generated_when_absent_and_echoed(gw):
    response = gw.client.get("/api/registry/me")
    generated = response.headers["x-correlation-id"]
    assert uuid.UUID(generated).version == 4
    assert response.json()["headers"]["x-correlation-id"] == generated


def test_each_request_gets_its_own_correlation_id(gw):
    first = gw.client.get("/api/registry/me").headers["x-correlation-id"]
    second = gw.client.get("/api/registry/me").headers["x-correlation-id"]
    assert first != second


def test_caller_correlation_id_is_propagated_and_echoed(gw):
    response = gw.client.get(f"{MODELS}/nope", headers={"X-Correlation-ID": "trace-abc.1"})
    assert response.headers["x-correlation-id"] == "trace-abc.1"
    sent = gw.upstream_requests("models")[-1]
    assert sent.headers["x-correlation-id"] == "trace-abc.1"


def test_malformed_correlation_id_is_replaced(gw):
    response = gw.client.get("/api/registry/me", headers={"X-Correlation-ID": "a b<script>"})
    echoed = response.headers["x-correlation-id"]
    assert uuid.UUID(echoed).version == 4
    assert response.json()["headers"]["x-correlation-id"] == echoed


def test_unknown_service_is_a_404_problem(gw):
    response = gw.client.get("/api/nonexistent/anything")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "unknown service 'nonexistent'"}
    assert response.headers["x-correlation-id"]
    assert gw.transport.requests == []


def test_known_but_unconfigured_service_is_not_routable(gw):
    response = gw.client.get("/api/training/api/v1/jobs/1")
    assert response.status_code == 404
    assert gw.transport.requests == []


def test_unreachable_upstream_is_a_503_problem(gw):
    response = gw.client.get("/api/scheduler/api/v1/objects")
    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"


def test_open_breaker_answers_503_without_calling_the_upstream(gw):
    for _ in range(5):
        gw.client.get("/api/scheduler/x")
    calls = len(gw.upstream_requests("scheduler"))
    response = gw.client.get("/api/scheduler/x")
    assert response.status_code == 503
    assert "circuit open" in response.json()["detail"]
    assert len(gw.upstream_requests("scheduler")) == calls == 5


def test_breaker_lets_a_probe_through_after_the_cooldown(gw):
    for _ in range(5):
        gw.client.get("/api/scheduler/x")
    gw.clock.now += 30
    gw.client.get("/api/scheduler/x")
    assert len(gw.upstream_requests("scheduler")) == 6


def test_retrying_gateway_sends_a_recovering_upstream_one_request_after_the_cooldown():
    env = make_gateway_env(retry_attempts=3)
    try:
        first = env.client.get("/api/scheduler/x")
        second = env.client.get("/api/scheduler/x")
        assert (first.status_code, second.status_code) == (503, 503)
        assert "circuit open" in second.json()["detail"]
        assert len(env.upstream_requests("scheduler")) == 5
        env.clock.now += 30
        third = env.client.get("/api/scheduler/x")
        assert third.status_code == 503
        assert len(env.upstream_requests("scheduler")) == 6
    finally:
        env.client.close()


def test_services_health_reports_each_configured_upstream(gw):
    body = gw.client.get("/health/services").json()
    assert body["status"] == "degraded"
    assert list(body["services"]) == ["models", "registry", "scheduler"]
    assert body["services"]["models"] == {"status": "ok", "status_code": 200}
    assert body["services"]["scheduler"]["status"] == "unavailable"


def test_gateway_health_does_not_call_upstreams(gw):
    response = gw.client.get("/health")
    assert response.json() == {"service": "gateway", "status": "ok"}
    assert gw.transport.requests == []
