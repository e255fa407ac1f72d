"""Only versions the registry has reviewed take traffic, whether routed or as a shadow."""

from __future__ import annotations

import pytest

from tests.utils.inference import (
    BUCKET_KEYS,
    deploy_ok,
    make_artifact,
    make_env,
    running,
    served_version,
    split,
)

pytestmark = pytest.mark.inference

ROUTING = "/api/v1/deployments/churn/routing"


@pytest.fixture
def env(tmp_path):
    env = make_env(tmp_path)
    env.publish("churn", 1, make_artifact("linear", seed=1))
    env.publish("churn", 2, make_artifact("linear", seed=2), stage="None")
    env.publish("churn", 3, make_artifact("linear", seed=3), stage="Archived")
    env.publish("churn", 4, make_artifact("linear", seed=4), stage="Staging")
    return env


@pytest.fixture
def client(env):
    with running(env) as client:
        deploy_ok(client, "churn", 1)
        yield client


def test_registered_but_never_promoted_version_cannot_take_traffic(client):
    response = split(client, "churn", {1: 90, 2: 10})
    assert response.status_code == 409
    assert "cannot take traffic" in response.json()["detail"]


def test_unpromoted_canary_refusal_leaves_every_key_on_the_reviewed_version(client):
    split(client, "churn", {1: 90, 2: 10})
    assert served_version(client, "churn", BUCKET_KEYS[9999]) == 1
    assert client.get(ROUTING).status_code == 404


def test_archived_version_cannot_take_traffic(client):
    assert split(client, "churn", {1: 90, 3: 10}).status_code == 409


def test_unpromoted_version_cannot_shadow_live_requests(client):
    assert split(client, "churn", {1: 100}, shadow=2).status_code == 409


def test_staging_canary_takes_its_share(client):
    assert split(client, "churn", {1: 90, 4: 10}).status_code == 200
    assert served_version(client, "churn", BUCKET_KEYS[9999]) == 4


def test_stats_name_versions_and_counts_but_no_request_keys(client):
    assert split(client, "churn", {1: 90, 4: 10}).status_code == 200
    served_version(client, "churn", BUCKET_KEYS[9999])
    text = client.get("/api/v1/deployments/churn/stats").text
    assert BUCKET_KEYS[9999] not in text
