"""The request guard of the FastAPI services: the largest body, integer and nesting it admits."""

from __future__ import annotations

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from shared.request_guard import MAX_JSON_DEPTH
from shared.web import create_service_app

pytestmark = pytest.mark.gateway

JSON = {"content-type": "application/json"}


def guarded(max_body_bytes: int) -> TestClient:
    app = create_service_app("gateway", max_body_bytes=max_body_bytes)

    @app.post("/echo")
    async def echo(request: Request) -> dict:
        return {"bytes": len(await request.body())}

    return TestClient(app)


def test_a_body_of_exactly_the_limit_is_admitted_and_one_byte_more_is_413():
    client = guarded(64)
    exact = b'"' + b"x" * 62 + b'"'
    assert client.post("/echo", content=exact, headers=JSON).json() == {"bytes": 64}
    assert client.post("/echo", content=exact + b" ", headers=JSON).status_code == 413


def test_the_widest_signed_64_bit_integers_are_admitted():
    client = guarded(1024)
    for literal in (b"-9223372036854775807", b"9223372036854775807"):
        assert client.post("/echo", content=literal, headers=JSON).status_code == 200
    assert client.post("/echo", content=b"9223372036854775808", headers=JSON).status_code == 422


def test_nesting_up_to_the_limit_is_admitted_and_one_level_more_is_400():
    client = guarded(1024)
    deepest = b"[" * MAX_JSON_DEPTH + b"7" + b"]" * MAX_JSON_DEPTH
    assert client.post("/echo", content=deepest, headers=JSON).status_code == 200
    deeper = b"[" + deepest + b"]"
    refused = client.post("/echo", content=deeper, headers=JSON)
    assert refused.status_code == 400
    assert refused.json()["error"] == "malformed_json"
