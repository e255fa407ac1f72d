"""Hostile or malformed registry input is a 4xx problem response and changes nothing."""

from __future__ import annotations

import pytest

from services.registry.models import ModelVersion, RegisteredModel, StageTransition
from tests.utils.registry import (
    REGISTRY_DB,
    create_version,
    version_payload,
    versions_url,
)

pytestmark = [pytest.mark.registry, REGISTRY_DB]


@pytest.mark.parametrize(
    "name",
    [
        "churn'; DROP TABLE registry_modelversion;--",
        "<img src=x onerror=alert(1)>",
        "...",
        "-leading-dash",
        "x" * 129,
        "caf\u00e9",
    ],
    ids=["sql", "html", "dots", "leading-dash", "too-long", "non-ascii"],
)
def test_unsafe_model_names_are_rejected_and_create_nothing(registry_client, name):
    response = registry_client.post(versions_url(name), json=version_payload())
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert RegisteredModel.objects.count() == 0


def test_path_traversal_in_the_name_reaches_no_handler(registry_client):
    response = registry_client.post(versions_url("..%2F..%2Fetc%2Fpasswd"), json=version_payload())
    assert response.status_code == 404
    assert RegisteredModel.objects.count() == 0


def test_longest_allowed_name_is_accepted(registry_client):
    response = registry_client.post(versions_url("m" * 128), json=version_payload())
    assert response.status_code == 201


@pytest.mark.parametrize(
    "overrides",
    [
        {"artifact_uri": "s3://bucket/" + "a" * 1024},
        {"artifact_uri": "file:///tmp/a.npz\n/etc/passwd"},
        {"artifact_uri": ""},
        {"run_id": "r" * 129},
        {"metrics": {"accuracy": "NaN"}},
        {"metrics": {"accuracy": "Infinity"}},
        {"metrics": {"k" * 129: 0.5}},
        {"params": {"blob": "x" * (64 * 1024)}},
        {"input_schema": {"features": ["a", "a"]}},
        {"input_schema": {"features": []}},
        {"parent_version": 0},
        {"parent_version": 7},
    ],
    ids=[
        "long-uri",
        "newline-in-uri",
        "empty-uri",
        "long-run-id",
        "nan-metric",
        "infinite-metric",
        "long-metric-name",
        "huge-params",
        "duplicate-features",
        "no-features",
        "parent-zero",
        "unknown-parent",
    ],
)
def test_invalid_version_fields_are_422_and_register_nothing(registry_client, overrides):
    response = registry_client.post(versions_url("churn"), json=version_payload(**overrides))
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert ModelVersion.objects.count() == 0


def test_malformed_json_body_is_a_400_problem(registry_client):
    response = registry_client.post(
        versions_url("churn"),
        content=b"{artifact_uri:",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error"] == "malformed_json"


@pytest.mark.parametrize(
    "body",
    [
        {"stage": "Deleted"},
        {"stage": "production"},
        {},
        {"stage": "Production", "archive_existing": "maybe"},
    ],
    ids=["unknown-stage", "lowercase-stage", "no-stage", "non-boolean-archive"],
)
def test_invalid_transition_requests_are_422_and_change_nothing(registry_client, body):
    create_version("churn", stage="Staging")
    response = registry_client.post(versions_url("churn", 1, "transition"), json=body)
    assert response.status_code == 422
    assert ModelVersion.objects.get().stage == "Staging"


def test_disallowed_transition_is_a_409_and_changes_nothing(registry_client):
    create_version("churn")
    response = registry_client.post(
        versions_url("churn", 1, "transition"), json={"stage": "Production"}
    )
    assert response.status_code == 409
    assert ModelVersion.objects.get().stage == "None"


def test_over_long_actor_header_is_rejected_without_a_transition(registry_client):
    create_version("churn")
    response = registry_client.post(
        versions_url("churn", 1, "transition"),
        json={"stage": "Staging"},
        headers={"X-Actor": "a" * 129},
    )
    assert response.status_code == 422
    assert StageTransition.objects.count() == 0


@pytest.mark.parametrize("query", ["limit=0", "limit=5000", "offset=-1", "limit=ten", "stage=Gone"])
def test_invalid_list_parameters_are_422(registry_client, query):
    create_version("churn")
    response = registry_client.get(versions_url("churn") + "?" + query)
    assert response.status_code == 422


def _nested(depth: int) -> bytes:
    return b'{"artifact_uri": "s3://b/m", "params": {"p": ' + b"[" * depth + b"]" * depth + b"}}"


@pytest.mark.parametrize(
    ("path", "content", "status", "code"),
    [
        ("?offset=" + str(2**64), None, 422, "validation_error"),
        ("", b'{"artifact_uri": "s3://b/m", "params": {"k\\u0000": 1}}', 422, "validation_error"),
        ("", b'{"artifact_uri": "s3://b/m", "run_id": "r\\ud800"}', 422, "validation_error"),
        ("", b'{"artifact_uri": "s3://b/m", "metrics": {"a": 1e999}}', 422, "validation_error"),
        ("", _nested(5000), 400, "bad_request"),
        ("", b'{"artifact_uri": "' + b"x" * (1024 * 1024) + b'"}', 413, "payload_too_large"),
    ],
    ids=["offset-beyond-64-bits", "nul-in-key", "lone-surrogate", "float-overflow", "deep", "huge"],
)
def test_hostile_requests_are_4xx_problems_and_store_nothing(
    registry_client, path, content, status, code
):
    if content is None:
        response = registry_client.get(versions_url("churn") + path)
    else:
        response = registry_client.post(
            versions_url("churn"), content=content, headers={"Content-Type": "application/json"}
        )
    assert (response.status_code, response.json()["error"]) == (status, code)
    assert response.headers["content-type"] == "application/problem+json"
    if status == 422:
        assert all(set(error) == {"loc", "msg", "type"} for error in response.json()["details"])
    assert ModelVersion.objects.count() == 0


def test_params_of_exactly_the_size_limit_are_stored(registry_client):
    # {"p": "..."} serialises to 9 bytes around the text.
    params = {"p": "v" * (64 * 1024 - 9)}
    response = registry_client.post(versions_url("churn"), json=version_payload(params=params))
    assert response.status_code == 201, response.content[:300]
    assert ModelVersion.objects.get().params == params


def test_a_one_character_artifact_uri_is_stored_verbatim(registry_client):
    response = registry_client.post(versions_url("churn"), json=version_payload(artifact_uri="m"))
    assert response.status_code == 201, response.content[:300]
    assert response.json()["artifact_uri"] == "m"
