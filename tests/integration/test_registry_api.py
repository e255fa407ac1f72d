"""Registry API flows through the Django test client and through the in-process WSGI app."""

from __future__ import annotations

import pytest
from django.test import Client

from services.registry.models import ModelVersion, RegisteredModel
from services.registry.search import VERSIONS_INDEX, document_id
from shared.backends import ports
from tests.utils.registry import (
    REGISTRY_DB,
    create_version,
    version_payload,
    versions_url,
)

pytestmark = [pytest.mark.registry, REGISTRY_DB]


def post_json(client: Client, path: str, body: dict, **headers: str):
    return client.post(path, body, content_type="application/json", **headers)


def test_first_registration_creates_the_model_and_version_one(registry_django_client):
    response = post_json(registry_django_client, versions_url("churn"), version_payload())
    assert response.status_code == 201
    assert response.json()["version"] == 1
    assert response.json()["stage"] == "None"
    assert RegisteredModel.objects.filter(name="churn").exists()


def test_versions_are_numbered_per_model(registry_django_client):
    numbers = [
        post_json(registry_django_client, versions_url(name), version_payload()).json()["version"]
        for name in ("churn", "churn", "fraud", "churn", "fraud")
    ]
    assert numbers == [1, 2, 1, 3, 2]


def test_get_version_returns_the_registered_fields(registry_django_client):
    body = version_payload(run_id="run-42", metrics={"auc": 0.875}, params={"depth": 3})
    post_json(registry_django_client, versions_url("churn"), body)
    got = registry_django_client.get(versions_url("churn", 1)).json()
    assert (got["run_id"], got["metrics"], got["params"]) == (
        "run-42",
        {"auc": 0.875},
        {"depth": 3},
    )
    assert got["input_schema"] == {"features": ["tenure_months", "monthly_spend"]}


def test_list_versions_filters_by_stage(registry_django_client):
    create_version("churn")
    create_version("churn", stage="Production")
    create_version("churn", stage="Staging")
    response = registry_django_client.get(versions_url("churn") + "?stage=Production")
    assert [item["version"] for item in response.json()["items"]] == [2]
    assert response.json()["total"] == 1


def test_list_versions_pages_with_limit_and_offset(registry_django_client):
    for _ in range(5):
        create_version("churn")
    body = registry_django_client.get(versions_url("churn") + "?limit=2&offset=1").json()
    assert [item["version"] for item in body["items"]] == [2, 3]
    assert (body["total"], body["limit"], body["offset"]) == (5, 2, 1)


def test_promoting_to_production_archives_the_previous_production(registry_django_client):
    create_version("churn", stage="Production")
    create_version("churn", stage="Staging")
    response = post_json(
        registry_django_client, versions_url("churn", 2, "transition"), {"stage": "Production"}
    )
    assert response.status_code == 200
    assert response.json()["archived_versions"] == [1]
    stages = dict(ModelVersion.objects.values_list("version", "stage"))
    assert stages == {1: "Archived", 2: "Production"}


def test_promotion_without_archive_existing_keeps_the_previous_production(
    registry_django_client,
):
    create_version("churn", stage="Archived")
    create_version("churn", stage="Production")
    create_version("churn", stage="Staging")
    body = {"stage": "Production", "archive_existing": False}
    response = post_json(registry_django_client, versions_url("churn", 3, "transition"), body)
    assert response.json()["archived_versions"] == []
    assert sorted(ModelVersion.objects.values_list("stage", flat=True)) == [
        "Archived",
        "Production",
        "Production",
    ]


def test_promotion_archives_only_the_same_models_production(registry_django_client):
    create_version("fraud", stage="Production")
    create_version("churn", stage="Staging")
    post_json(
        registry_django_client, versions_url("churn", 1, "transition"), {"stage": "Production"}
    )
    assert ModelVersion.objects.get(model__name="fraud").stage == "Production"


def test_transition_history_records_each_move_with_its_actor(registry_django_client):
    create_version("churn")
    url = versions_url("churn", 1, "transition")
    post_json(registry_django_client, url, {"stage": "Staging"}, HTTP_X_ACTOR="alice")
    post_json(registry_django_client, url, {"stage": "Production"}, HTTP_X_ACTOR="bob")
    history = registry_django_client.get(versions_url("churn", 1, "transitions")).json()
    moves = [(row["from_stage"], row["to_stage"], row["actor"]) for row in history]
    assert moves == [("None", "Staging", "alice"), ("Staging", "Production", "bob")]


def test_lineage_lists_ancestors_nearest_first(registry_django_client):
    create_version("churn")
    create_version("churn", parent_version=1)
    create_version("churn", parent_version=2)
    create_version("churn", parent_version=1)
    body = registry_django_client.get(versions_url("churn", 3, "lineage")).json()
    assert [row["version"] for row in body["ancestors"]] == [2, 1]
    assert body["truncated"] is False


def test_parent_version_counts_within_the_same_model(registry_django_client):
    # Another model registers in between.
    create_version("churn")
    create_version("fraud")
    post_json(registry_django_client, versions_url("fraud"), version_payload(parent_version=1))
    create_version("churn", parent_version=1)
    record = registry_django_client.get(versions_url("fraud", 2)).json()
    assert (record["version"], record["parent_version"]) == (2, 1)
    body = registry_django_client.get(versions_url("fraud", 2, "lineage")).json()
    assert [(row["name"], row["version"]) for row in body["ancestors"]] == [("fraud", 1)]


def test_lineage_of_a_root_version_is_empty(registry_django_client):
    create_version("churn")
    body = registry_django_client.get(versions_url("churn", 1, "lineage")).json()
    assert body["ancestors"] == []


def test_registered_model_reports_its_latest_version(registry_django_client):
    create_version("churn")
    create_version("churn")
    body = registry_django_client.get("/api/v1/registered-models/churn").json()
    assert (body["latest_version"], body["version_count"]) == (2, 2)
    listing = registry_django_client.get("/api/v1/registered-models").json()
    assert [item["name"] for item in listing["items"]] == ["churn"]


def test_wsgi_app_registers_and_promotes_through_the_inprocess_transport(registry_client):
    created = registry_client.post(versions_url("churn"), json=version_payload())
    assert created.status_code == 201
    for stage in ("Staging", "Production"):
        moved = registry_client.post(versions_url("churn", 1, "transition"), json={"stage": stage})
        assert moved.status_code == 200
    production = registry_client.get(versions_url("churn"), params={"stage": "Production"})
    assert [item["version"] for item in production.json()["items"]] == [1]


def test_wsgi_app_serves_health(registry_client):
    response = registry_client.get("/health")
    assert response.json() == {"service": "registry", "status": "ok"}


def test_fallback_urlconf_does_not_serve_registry_routes():
    response = Client().get("/api/v1/registered-models")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_version_search_answers_twenty_hits_unless_asked_for_more(registry_client):
    for number in range(1, 22):
        document = {"name": "churn", "version": number, "stage": "None", "summary": "churn"}
        ports().search.index(VERSIONS_INDEX, document_id("churn", number), document)
    page = registry_client.get("/api/v1/search/versions", params={"name": "churn"}).json()
    assert (page["total"], len(page["items"])) == (21, 20)
    assert [hit["version"] for hit in page["items"]][:2] == [21, 20]
    more = registry_client.get("/api/v1/search/versions", params={"name": "churn", "size": 21})
    assert len(more.json()["items"]) == 21
