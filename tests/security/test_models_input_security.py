"""Hostile input to the models API is treated as data or refused, never executed or a 500."""

from __future__ import annotations

import pytest

from tests.utils.models import MODELS_URL, make_models_env, model_payload

pytestmark = pytest.mark.models

INJECTION = "alice' OR '1'='1"


@pytest.fixture
def env():
    env = make_models_env()
    yield env
    env.client.close()


def test_injection_looking_owner_filter_matches_nothing(env):
    env.create(name="model-a", owner="alice")
    env.create(name="model-b", owner="bob")
    body = env.client.get(MODELS_URL, params={"owner": INJECTION}).json()
    assert (body["items"], body["total"]) == ([], 0)


def test_owner_with_quotes_is_stored_and_matched_verbatim(env):
    env.create(name="model-a", owner=INJECTION)
    env.create(name="model-b", owner="alice")
    body = env.client.get(MODELS_URL, params={"owner": INJECTION}).json()
    assert [item["name"] for item in body["items"]] == ["model-a"]
    assert body["items"][0]["owner"] == INJECTION


@pytest.mark.parametrize("owner", ["%", "ops_team", "50%-team"])
def test_owner_filter_returns_only_that_owners_models(env, owner):
    env.create(name="model-a", owner="ops_team")
    env.create(name="model-b", owner="opsxteam")
    env.create(name="model-c", owner="50%-team")
    env.create(name="model-d", owner="500-team")
    body = env.client.get(MODELS_URL, params={"owner": owner}).json()
    expected = {"ops_team": ["model-a"], "50%-team": ["model-c"]}.get(owner, [])
    assert [item["name"] for item in body["items"]] == expected
    assert body["total"] == len(expected)


def test_tag_filter_returns_only_models_carrying_that_tag(env):
    env.create(name="model-a", tags=["eu_west"])
    env.create(name="model-b", tags=["eu-west"])
    body = env.client.get(MODELS_URL, params={"tag": "eu_west"}).json()
    assert [item["name"] for item in body["items"]] == ["model-a"]


def test_injection_in_tag_filter_leaves_the_table_intact(env):
    env.create(tags=["prod"])
    hostile = "'; DROP TABLE model_tags;--"
    response = env.client.get(MODELS_URL, params={"tag": hostile})
    assert (response.status_code, response.json()["total"]) == (200, 0)
    assert env.client.get(MODELS_URL).json()["total"] == 1


def test_injection_in_model_name_path_is_a_plain_404(env):
    env.create()
    response = env.client.get(f"{MODELS_URL}/x' OR '1'='1")
    assert response.status_code == 404
    assert env.client.delete(f"{MODELS_URL}/x' OR 1=1 --").status_code == 404
    assert env.client.get(MODELS_URL).json()["total"] == 1


@pytest.mark.parametrize("name", ["fraud/../admin", "../fraud", "fraud;drop"])
def test_names_carrying_path_or_statement_characters_are_rejected_and_create_nothing(env, name):
    response = env.client.post(MODELS_URL, json=model_payload(name=name))
    assert response.status_code == 422
    assert env.client.get(MODELS_URL).json()["total"] == 0


def test_oversized_description_is_rejected(env):
    response = env.client.post(MODELS_URL, json=model_payload(description="x" * 2001))
    assert response.status_code == 422
    assert env.client.get(MODELS_URL).json()["total"] == 0


def test_oversized_feature_list_is_rejected(env):
    features = [f"f{i}" for i in range(513)]
    response = env.client.post(MODELS_URL, json=model_payload(input_schema={"features": features}))
    assert response.status_code == 422


@pytest.mark.parametrize(
    "params",
    [{"limit": 101}, {"limit": 0}, {"offset": -1}, {"offset": 2**70}, {"owner": "o" * 65}],
    ids=["limit-high", "limit-zero", "offset-negative", "offset-huge", "owner-long"],
)
def test_out_of_range_list_parameters_are_422(env, params):
    response = env.client.get(MODELS_URL, params=params)
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


@pytest.mark.parametrize("owner", ["ali\x00ce", "bob\nadmin", "   "])
def test_owner_with_control_characters_or_blank_is_rejected(env, owner):
    assert env.client.post(MODELS_URL, json=model_payload(owner=owner)).status_code == 422


def test_owner_of_one_visible_character_is_accepted(env):
    response = env.client.post(MODELS_URL, json=model_payload(name="tiny-owner", owner="q"))
    assert response.status_code == 201, response.text
    assert response.json()["owner"] == "q"


def test_a_refusal_names_its_first_field_error_and_counts_the_rest(env):
    body = model_payload(name="x", owner="", description="d" * 2001)
    response = env.client.post(MODELS_URL, json=body)
    assert response.status_code == 422
    detail, errors = response.json()["detail"], response.json()["details"]
    assert len(errors) == 3
    assert detail.endswith(" (and 2 more)")
