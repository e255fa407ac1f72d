"""The gateway documents its own failure answers on the proxy route as problems."""

from __future__ import annotations

import pytest

from tests.utils.gateway import make_gateway_env

pytestmark = pytest.mark.gateway

PROXY = "/api/{service}/{path}"
PROBLEM = "application/problem+json"


def test_the_proxy_documents_bad_unavailable_and_slow_upstreams_as_problems():
    env = make_gateway_env()
    document = env.client.get("/openapi.json").json()
    for method, operation in document["paths"][PROXY].items():
        for status in ("502", "503", "504"):
            declared = operation["responses"].get(status, {})
            assert PROBLEM in declared.get("content", {}), (method, status)


def test_an_unreachable_upstream_answers_a_documented_503_problem():
    env = make_gateway_env()
    document = env.client.get("/openapi.json").json()
    response = env.client.get("/api/scheduler/api/v1/objects")
    assert (response.status_code, response.headers["content-type"]) == (503, PROBLEM)
    assert PROBLEM in document["paths"][PROXY]["get"]["responses"]["503"]["content"]


def test_the_documented_failures_say_what_went_wrong_upstream():
    env = make_gateway_env()
    responses = env.client.get("/openapi.json").json()["paths"][PROXY]["get"]["responses"]
    assert responses["502"]["description"] == "An upstream service failed"
    assert responses["504"]["description"] == "An upstream service timed out"
