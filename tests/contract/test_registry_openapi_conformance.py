"""Every documented registry operation answers in the status, media type and shape declared."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator

from tests.utils.registry import REGISTRY_DB, create_version, version_payload

pytestmark = [pytest.mark.registry, REGISTRY_DB]

MODEL = "/api/v1/registered-models/{name}"
VERSION = MODEL + "/versions/{version}"
PROBLEM_REF = "#/components/schemas/Problem"

# (method, documented path, path values, query, JSON body or raw bytes): one success and the
# error answers each operation documents, so every declared shape is exercised.
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], Any]] = [
    ("get", "/api/v1/registered-models", {}, {}, None),
    ("get", "/api/v1/registered-models", {}, {"offset": str(2**64)}, None),
    ("get", MODEL, {"name": "churn"}, {}, None),
    ("get", MODEL, {"name": "ghost"}, {}, None),
    ("get", MODEL, {"name": "-bad"}, {}, None),
    ("get", MODEL + "/versions", {"name": "churn"}, {"stage": "None"}, None),
    ("get", MODEL + "/versions", {"name": "churn"}, {"limit": "0"}, None),
    ("post", MODEL + "/versions", {"name": "churn"}, {}, version_payload(parent_version=1)),
    ("post", MODEL + "/versions", {"name": "churn"}, {}, {"metrics": {"a": "0.5"}}),
    ("post", MODEL + "/versions", {"name": "churn"}, {}, b"{not json"),
    ("get", VERSION, {"name": "churn", "version": 1}, {}, None),
    ("get", VERSION, {"name": "churn", "version": 99}, {}, None),
    ("post", VERSION + "/transition", {"name": "churn", "version": 1}, {}, {"stage": "Staging"}),
    ("post", VERSION + "/transition", {"name": "churn", "version": 1}, {}, {"stage": "None"}),
    ("post", VERSION + "/transition", {"name": "churn", "version": 1}, {}, {"stage": "gone"}),
    ("get", VERSION + "/transitions", {"name": "churn", "version": 1}, {}, None),
    ("get", VERSION + "/lineage", {"name": "churn", "version": 2}, {}, None),
    ("get", VERSION + "/lineage", {"name": "churn", "version": 7}, {}, None),
    ("get", "/api/v1/model-versions", {}, {"run_id": "run-0001"}, None),
    ("get", "/api/v1/model-versions", {}, {"run_id": ""}, None),
    ("get", "/api/v1/search/versions", {}, {"q": "churn"}, None),
    ("get", "/api/v1/search/versions", {}, {"size": "0"}, None),
]


@functools.cache
def registry_openapi() -> dict[str, Any]:
    """Build the registry's OpenAPI document once; building it reads no database."""
    return SchemaGenerator(urlconf="services.registry.urls").get_schema(request=None, public=True)


def declared_body_schema(document: dict, method: str, path: str, status: int) -> tuple[str, dict]:
    """Return the (media type, schema) an operation declares for a status; fail if undeclared."""
    responses = document["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} answered undeclared {status}"
    ((media_type, content),) = responses[str(status)]["content"].items()
    return media_type, content["schema"]


def test_every_documented_operation_answers_in_its_declared_shape(registry_client):
    document = registry_openapi()
    create_version("churn")
    seen: set[tuple[str, str]] = set()
    for method, path, values, query, body in CASES:
        raw = body if isinstance(body, bytes) else None
        response = registry_client.request(
            method,
            path.format(**values),
            params=query,
            json=None if raw is not None else body,
            content=raw,
            headers={"Content-Type": "application/json"} if raw is not None else None,
        )
        media_type, schema = declared_body_schema(document, method, path, response.status_code)
        assert response.headers["content-type"] == media_type, (method, path, query, body)
        if response.status_code >= 400:
            assert schema == {"$ref": PROBLEM_REF}
        validator = Draft202012Validator({**schema, "components": document["components"]})
        assert list(validator.iter_errors(response.json())) == [], (method, path, response.text)
        seen.add((method, path))
    documented = {
        (method, path)
        for path, operations in document["paths"].items()
        for method in operations
        if path.startswith("/api/v1/")
    }
    assert seen == documented
