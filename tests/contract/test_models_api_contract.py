"""Contract of the models API: response shapes, status codes and validation rules."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.utils.models import MODELS_URL, make_models_env, model_payload

pytestmark = pytest.mark.models

MODEL_KEYS = {
    "id",
    "name",
    "description",
    "task",
    "owner",
    "tags",
    "input_schema",
    "created_at",
    "updated_at",
}


@pytest.fixture
def env():
    env = make_models_env()
    yield env
    env.client.close()


def test_create_returns_201_with_the_full_model(env):
    response = env.client.post(MODELS_URL, json=model_payload())
    assert response.status_code == 201
    body = response.json()
    assert set(body) == MODEL_KEYS
    assert body["name"] == "churn-classifier"
    assert body["task"] == "classification"
    assert body["input_schema"] == {"features": ["tenure_months", "monthly_spend", "support_calls"]}
    assert isinstance(body["id"], int)


def test_timestamps_are_iso_8601_in_utc(env):
    body = env.create()
    created = datetime.fromisoformat(body["created_at"])
    assert created.utcoffset().total_seconds() == 0
    assert created == env.clock.start


def test_tags_are_normalised_and_deduplicated_in_order(env):
    body = env.create(tags=[" Fraud", "fraud", "EU", "batch.v2", "eu"])
    assert body["tags"] == ["fraud", "eu", "batch.v2"]


def test_duplicate_name_returns_409_problem(env):
    env.create(name="fraud-detector")
    response = env.client.post(MODELS_URL, json=model_payload(name="fraud-detector"))
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert "fraud-detector" in response.json()["detail"]


@pytest.mark.parametrize(
    "name",
    ["ab", "Churn", "-churn", "churn-", "churn--v2", "churn_v2", "churn v2", "x" * 65],
)
def test_names_breaking_slug_rules_are_rejected(env, name):
    response = env.client.post(MODELS_URL, json=model_payload(name=name))
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


@pytest.mark.parametrize("name", ["abc", "a1-b2-c3", "9" * 64])
def test_names_within_slug_rules_are_accepted(env, name):
    assert env.client.post(MODELS_URL, json=model_payload(name=name)).status_code == 201


def test_unknown_task_is_rejected(env):
    response = env.client.post(MODELS_URL, json=model_payload(task="clustering"))
    assert response.status_code == 422
    assert response.json()["details"][0]["loc"] == ["body", "task"]


@pytest.mark.parametrize(
    "features", [[], ["age", "age"], ["1st"], ["ok", ""]], ids=["empty", "dup", "digit", "blank"]
)
def test_invalid_feature_lists_are_rejected(env, features):
    response = env.client.post(MODELS_URL, json=model_payload(input_schema={"features": features}))
    assert response.status_code == 422


def test_more_than_twenty_tags_are_rejected(env):
    tags = [f"t{i}" for i in range(21)]
    assert env.client.post(MODELS_URL, json=model_payload(tags=tags)).status_code == 422


def test_unknown_fields_are_rejected(env):
    response = env.client.post(MODELS_URL, json=model_payload(version=3))
    assert response.status_code == 422


def test_missing_model_returns_404_problem(env):
    response = env.client.get(f"{MODELS_URL}/no-such-model")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "model 'no-such-model' not found"}


def test_list_returns_the_page_envelope(env):
    env.create()
    body = env.client.get(MODELS_URL).json()
    assert set(body) == {"items", "total", "limit", "offset"}
    assert (body["total"], body["limit"], body["offset"]) == (1, 20, 0)
    assert set(body["items"][0]) == MODEL_KEYS


def test_delete_returns_204_then_the_model_is_gone(env):
    env.create()
    response = env.client.delete(f"{MODELS_URL}/churn-classifier")
    assert (response.status_code, response.content) == (204, b"")
    assert env.client.get(f"{MODELS_URL}/churn-classifier").status_code == 404
    assert env.client.delete(f"{MODELS_URL}/churn-classifier").status_code == 404


def test_patch_cannot_rename_a_model(env):
    env.create()
    response = env.client.patch(f"{MODELS_URL}/churn-classifier", json={"name": "other-name"})
    assert response.status_code == 422
    assert env.client.get(f"{MODELS_URL}/churn-classifier").status_code == 200


def test_openapi_document_lists_the_model_routes(env):
    response = env.client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths[MODELS_URL]) == {"get", "post"}
    assert set(paths[MODELS_URL + "/{name}"]) == {"get", "patch", "delete"}
    assert "/health" in paths


def test_health_reports_the_database(env):
    response = env.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"service": "models", "status": "ok", "database": "ok"}
