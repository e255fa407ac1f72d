"""Hostile input gets a 4xx problem with a message, never a 500, and stores nothing."""

from __future__ import annotations

import httpx
import pytest

from shared.clients.base import ServiceClient, StaticDiscovery
from shared.clients.registry import RegistryClient
from tests.utils.gateway import make_gateway_env
from tests.utils.models import MODELS_URL, make_models_env, model_payload
from tests.utils.training import JOBS_URL, job_payload, make_training_env

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, error: str) -> dict:
    """Assert a problem answer with this status and code, and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["error"] == error and isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.mark.models
def test_malformed_json_is_a_400_problem_the_schema_declares():
    env = make_models_env()
    response = env.client.post(
        MODELS_URL, content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400, "malformed_json")
    declared = env.client.get("/openapi.json").json()["paths"]["/api/v1/models"]["post"]
    assert set(declared["responses"]["400"]["content"]) == {PROBLEM}


@pytest.mark.models
def test_nul_in_text_is_refused_before_the_database_and_stores_nothing():
    env = make_models_env()
    response = env.client.post(MODELS_URL, json=model_payload(description="a\x00b"))
    body = assert_problem(response, 422, "validation_error")
    assert body["details"][0]["loc"] == ["body", "description"]
    assert_problem(env.client.get(f"{MODELS_URL}/a%00b"), 400, "bad_request")
    assert env.client.get(MODELS_URL).json()["total"] == 0


@pytest.mark.models
def test_offsets_beyond_64_bits_and_negative_are_422():
    env = make_models_env()
    for offset in (2**64, -1):
        response = env.client.get(MODELS_URL, params={"offset": offset})
        assert_problem(response, 422, "validation_error")


@pytest.mark.models
def test_unknown_path_and_wrong_method_answer_problems_with_the_full_allow_list():
    env = make_models_env()
    assert_problem(env.client.get("/api/v1/nothing-here"), 404, "not_found")
    response = env.client.put(MODELS_URL, json={})
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, POST"


@pytest.mark.training
def test_huge_body_is_413_with_a_message(tmp_path):
    env = make_training_env(tmp_path)
    padding = "x" * (5 * 1024 * 1024)
    response = env.client.post(JOBS_URL, json=job_payload(model_name=padding))
    body = assert_problem(response, 413, "payload_too_large")
    assert "bytes" in body["detail"]
    assert env.client.get(JOBS_URL).json()["total"] == 0


@pytest.mark.training
def test_deeply_nested_json_is_a_400(tmp_path):
    env = make_training_env(tmp_path)
    content = b'{"model_name": "m", "dataset": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = env.client.post(
        JOBS_URL, content=content, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400, "malformed_json")


@pytest.mark.gateway
def test_float_overflow_through_the_gateway_is_422_and_not_forwarded():
    env = make_gateway_env()
    response = env.client.post(
        "/api/models/api/v1/models",
        content=b'{"name": "m1", "limit": 1e400}',
        headers={"Content-Type": "application/json"},
    )
    body = assert_problem(response, 422, "validation_error")
    assert "out of range" in body["detail"]
    assert env.transport.requests == []


@pytest.mark.inference
def test_registry_client_sends_a_name_as_one_encoded_path_segment():
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, json={"name": "x", "version": 1})

    discovery = StaticDiscovery({"registry": "http://registry"})
    client = ServiceClient("registry", discovery=discovery, transport=httpx.MockTransport(answer))
    RegistryClient(client).get_version("a/../b?c#d", 1)
    assert seen == ["/api/v1/registered-models/a%2F..%2Fb%3Fc%23d/versions/1"]
