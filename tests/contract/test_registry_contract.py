"""Registry response shapes, status codes and the OpenAPI schema, as ARCHITECTURE.md states."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.utils.registry import (
    REGISTRY_DB,
    create_version,
    version_payload,
    versions_url,
)

pytestmark = [pytest.mark.registry, REGISTRY_DB]


VERSION_FIELDS = {
    "name",
    "version",
    "stage",
    "artifact_uri",
    "run_id",
    "metrics",
    "params",
    "input_schema",
    "parent_version",
    "created_at",
    "updated_at",
}
PAGE_FIELDS = {"name", "items", "total", "limit", "offset"}


def test_registered_version_has_the_contract_fields(registry_client):
    response = registry_client.post(versions_url("churn"), json=version_payload())
    assert response.status_code == 201
    assert set(response.json()) == VERSION_FIELDS
    assert response.headers["content-type"] == "application/json"


def test_timestamps_are_timezone_aware_utc(registry_client):
    body = registry_client.post(versions_url("churn"), json=version_payload()).json()
    created = datetime.fromisoformat(body["created_at"])
    assert created.utcoffset() is not None
    assert created.tzinfo.utcoffset(created) == UTC.utcoffset(created)


def test_version_list_has_the_page_shape(registry_client):
    create_version("churn")
    body = registry_client.get(versions_url("churn")).json()
    assert set(body) == PAGE_FIELDS
    assert body["name"] == "churn"
    assert set(body["items"][0]) == VERSION_FIELDS


def test_transition_returns_the_version_and_archived_versions(registry_client):
    create_version("churn", stage="Staging")
    response = registry_client.post(
        versions_url("churn", 1, "transition"), json={"stage": "Production"}
    )
    assert response.status_code == 200
    assert set(response.json()) == VERSION_FIELDS | {"archived_versions"}
    assert response.json()["stage"] == "Production"


def test_lineage_has_name_version_ancestors_and_truncated(registry_client):
    create_version("churn")
    create_version("churn", parent_version=1)
    body = registry_client.get(versions_url("churn", 2, "lineage")).json()
    assert set(body) == {"name", "version", "ancestors", "truncated"}
    assert (body["name"], body["version"]) == ("churn", 2)
    assert set(body["ancestors"][0]) == VERSION_FIELDS


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", versions_url("ghost"), None, 404, "not_found"),
        ("GET", versions_url("churn", 9), None, 404, "not_found"),
        ("POST", versions_url("churn"), {"metrics": {}}, 422, "validation_error"),
        ("POST", versions_url("churn", 1, "transition"), {"stage": "Production"}, 409, "conflict"),
        ("DELETE", versions_url("churn", 1), None, 405, "method_not_allowed"),
    ],
)
def test_errors_use_the_problem_shape(registry_client, method, path, body, status, code):
    create_version("churn")
    response = registry_client.request(method, path, json=body)
    assert response.status_code == status
    assert response.json()["error"] == code
    assert "detail" in response.json()


@functools.cache
def registry_openapi() -> dict:
    """Build the registry's OpenAPI document once; building it reads no database."""
    generator = SchemaGenerator(urlconf="services.registry.urls")
    return generator.get_schema(request=None, public=True)


@pytest.fixture
def openapi_schema() -> dict:
    return registry_openapi()


def test_openapi_schema_lists_every_registry_endpoint(openapi_schema):
    paths = openapi_schema["paths"]
    version = "/api/v1/registered-models/{name}/versions/{version}"
    assert {
        "/api/v1/registered-models",
        "/api/v1/registered-models/{name}",
        "/api/v1/registered-models/{name}/versions",
        version,
        f"{version}/transition",
        f"{version}/transitions",
        f"{version}/lineage",
    } <= set(paths)
    assert {"get", "post"} <= set(paths["/api/v1/registered-models/{name}/versions"])


def test_openapi_schema_documents_the_stage_values(openapi_schema):
    stage = openapi_schema["components"]["schemas"]["StageEnum"]
    assert stage["enum"] == ["None", "Staging", "Production", "Archived"]


def test_schema_endpoint_serves_openapi_json(registry_client):
    response = registry_client.get("/api/schema", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_api_docs_page_points_at_the_schema(registry_client):
    response = registry_client.get("/api/docs")
    assert response.status_code == 200
    assert "/api/schema" in response.text
