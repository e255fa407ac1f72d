"""The inference API documents typed predictions, its routing endpoints and its 429."""

from __future__ import annotations

import pytest

from tests.utils.inference import deploy_ok, make_artifact, make_env, running, split

pytestmark = pytest.mark.inference


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    return make_env(tmp_path_factory.mktemp("doc")).app.openapi()


def test_predictions_are_typed_labels_with_probabilities_or_values(document):
    schemas = document["components"]["schemas"]
    assert schemas["ClassPrediction"]["properties"]["label"]["type"] == "integer"
    assert schemas["ClassPrediction"]["properties"]["probability"]["type"] == "number"
    assert schemas["ValuePrediction"]["properties"]["value"]["type"] == "number"
    assert schemas["PredictResponse"]["properties"]["task"]["enum"] == [
        "classification",
        "regression",
    ]


def test_routing_and_prediction_document_their_errors(document):
    paths = document["paths"]
    assert {"404", "409", "422"} <= set(
        paths["/api/v1/deployments/{name}/routing"]["put"]["responses"]
    )
    assert "429" in paths["/api/v1/models/{name}/predict"]["post"]["responses"]


def test_routing_answer_matches_its_documented_fields(tmp_path):
    env = make_env(tmp_path)
    env.publish("churn", 1, make_artifact("linear", seed=1))
    env.publish("churn", 2, make_artifact("linear", seed=2), stage="Staging")
    with running(env) as client:
        deploy_ok(client, "churn", 1)
        body = split(client, "churn", {1: "62.5", 2: "37.5"}).json()
    assert body == {
        "name": "churn",
        "routes": [
            {"version": 1, "percent": "62.50", "buckets": 6250},
            {"version": 2, "percent": "37.50", "buckets": 3750},
        ],
        "shadow": None,
    }


def test_stats_answer_has_one_entry_per_serving_version(tmp_path):
    env = make_env(tmp_path)
    env.publish("churn", 1, make_artifact("logistic", seed=1))
    env.publish("churn", 2, make_artifact("logistic", seed=2), stage="Staging")
    with running(env) as client:
        deploy_ok(client, "churn", 1)
        split(client, "churn", {1: 100}, shadow=2)
        body = client.get("/api/v1/deployments/churn/stats").json()
    assert [(v["version"], v["role"]) for v in body["versions"]] == [(1, "primary"), (2, "shadow")]
    assert set(body["versions"][1]["shadow"]) == {"compared", "agreed", "errors"}


def test_promoting_a_canary_documents_its_errors(document):
    promote = document["paths"]["/api/v1/deployments/{name}/routing/promote"]["post"]
    assert {"404", "409", "503"} <= set(promote["responses"])
