"""Register-version fields: what may be left out or blank, and what is refused as sent."""

from __future__ import annotations

import pytest

from services.registry.models import ModelVersion
from tests.utils.registry import REGISTRY_DB, version_payload, versions_url

pytestmark = [pytest.mark.registry, REGISTRY_DB]


def register(client, **overrides):
    return client.post(versions_url("churn"), json=version_payload(**overrides))


def test_a_version_without_an_input_schema_is_registered_with_none(registry_client):
    payload = version_payload()
    payload.pop("input_schema")
    response = registry_client.post(versions_url("churn"), json=payload)
    assert response.status_code == 201, response.text
    assert response.json()["input_schema"] is None


def test_a_null_input_schema_is_registered_as_none(registry_client):
    response = register(registry_client, input_schema=None)
    assert response.status_code == 201, response.text
    assert response.json()["input_schema"] is None


def test_a_blank_run_id_is_accepted_as_no_run(registry_client):
    response = register(registry_client, run_id="")
    assert response.status_code == 201, response.text
    assert response.json()["run_id"] == ""


def test_an_artifact_uri_with_surrounding_spaces_is_refused_not_trimmed(registry_client):
    response = register(registry_client, artifact_uri=" s3://bucket/model.npz ")
    assert response.status_code == 422
    assert response.json()["details"][0]["loc"] == ["artifact_uri"]
    assert ModelVersion.objects.count() == 0


def test_a_parent_version_beyond_32_bits_is_out_of_range(registry_client):
    response = register(registry_client, parent_version=2**31)
    assert response.status_code == 422
    (error,) = response.json()["details"]
    assert (error["loc"], error["type"]) == (["parent_version"], "max_value")
