"""Deploy, swap, unload and predict through the inference API with real artifacts."""

from __future__ import annotations

import numpy as np
import pytest

from tests.utils.inference import ROWS, make_artifact, make_env, matrix, running

pytestmark = pytest.mark.inference

DEPLOY = "/api/v1/deployments/{}"
PREDICT = "/api/v1/models/{}/predict"


@pytest.fixture
def env(tmp_path):
    return make_env(tmp_path)


@pytest.fixture
def client(env):
    with running(env) as client:
        yield client


def deploy(client, name, version):
    response = client.post(DEPLOY.format(name), json={"version": version})
    assert response.status_code == 200, response.text
    return response.json()


def predict(client, name, rows=ROWS):
    return client.post(PREDICT.format(name), json={"instances": rows})


def test_classifier_predictions_carry_label_and_probability(env, client):
    model = make_artifact("logistic", seed=1)
    env.publish("churn", 1, model)
    deploy(client, "churn", 1)
    body = predict(client, "churn").json()
    labels = [p["label"] for p in body["predictions"]]
    probs = [p["probability"] for p in body["predictions"]]
    assert labels == model.predict(matrix()).tolist()
    expected = model.predict_proba(matrix())[np.arange(len(ROWS)), labels]
    np.testing.assert_allclose(probs, expected, rtol=1e-6)
    assert body["task"] == "classification"


def test_regressor_predictions_are_values(env, client):
    model = make_artifact("linear", seed=2)
    env.publish("spend", 1, model)
    deploy(client, "spend", 1)
    body = predict(client, "spend").json()
    values = [p["value"] for p in body["predictions"]]
    np.testing.assert_allclose(values, model.predict(matrix()), rtol=1e-6)
    assert body["task"] == "regression"
    assert "label" not in body["predictions"][0]


def test_multiclass_mlp_reports_probability_of_its_label(env, client):
    model = make_artifact("mlp", seed=3)
    env.publish("segment", 1, model)
    deploy(client, "segment", 1)
    body = predict(client, "segment").json()
    proba = model.predict_proba(matrix())
    for row, pred in zip(proba, body["predictions"], strict=True):
        assert pred["label"] == int(np.argmax(row))
        assert pred["probability"] == pytest.approx(float(row.max()), rel=1e-6)


def test_response_names_the_model_and_version(env, client):
    env.publish("churn", 4, make_artifact(seed=1))
    deploy(client, "churn", 4)
    body = predict(client, "churn").json()
    assert (body["model"], body["version"]) == ("churn", 4)


def test_deploying_a_new_version_serves_its_predictions(env, client):
    v1, v2 = make_artifact("linear", seed=1), make_artifact("linear", seed=2)
    env.publish("spend", 1, v1)
    env.publish("spend", 2, v2)
    deploy(client, "spend", 1)
    deploy(client, "spend", 2)
    body = predict(client, "spend").json()
    assert body["version"] == 2
    np.testing.assert_allclose([p["value"] for p in body["predictions"]], v2.predict(matrix()))


def test_rolling_back_serves_the_older_version_again(env, client):
    v1, v2 = make_artifact("linear", seed=1), make_artifact("linear", seed=2)
    env.publish("spend", 1, v1)
    env.publish("spend", 2, v2)
    for version in (1, 2, 1):
        deploy(client, "spend", version)
    body = predict(client, "spend").json()
    assert body["version"] == 1
    np.testing.assert_allclose([p["value"] for p in body["predictions"]], v1.predict(matrix()))


def test_redeploying_the_serving_version_keeps_its_counters(env, client):
    env.publish("churn", 1, make_artifact(seed=1))
    deploy(client, "churn", 1)
    predict(client, "churn")
    body = deploy(client, "churn", 1)
    assert body["items"][0]["requests"] == 1
    assert env.loader.calls == [env.root / "churn" / "v1" / "model.npz"]


def test_deploying_an_unknown_version_is_404(env, client):
    env.publish("churn", 1, make_artifact(seed=1))
    response = client.post(DEPLOY.format("churn"), json={"version": 7})
    assert response.status_code == 404
    assert env.loader.calls == []


def test_predicting_with_a_model_never_deployed_is_404(client):
    response = predict(client, "ghost")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_undeployed_model_stops_serving(env, client):
    env.publish("churn", 1, make_artifact(seed=1))
    deploy(client, "churn", 1)
    assert client.delete(DEPLOY.format("churn")).status_code == 204
    assert predict(client, "churn").status_code == 404
    assert client.get("/api/v1/deployments").json()["items"] == []


def test_undeploying_an_unknown_model_is_404(client):
    assert client.delete(DEPLOY.format("ghost")).status_code == 404


def test_counters_track_requests_and_errors_per_model(env, client):
    env.publish("churn", 1, make_artifact(seed=1))
    env.publish("spend", 1, make_artifact("linear", seed=2))
    deploy(client, "churn", 1)
    deploy(client, "spend", 1)
    predict(client, "churn")
    predict(client, "churn", [{"tenure": 1.0}])
    predict(client, "spend")
    items = {i["name"]: i for i in client.get("/api/v1/deployments").json()["items"]}
    assert (items["churn"]["requests"], items["churn"]["errors"]) == (2, 1)
    assert (items["spend"]["requests"], items["spend"]["errors"]) == (1, 0)


def test_new_version_starts_with_fresh_counters(env, client):
    env.publish("churn", 1, make_artifact(seed=1))
    env.publish("churn", 2, make_artifact(seed=2))
    deploy(client, "churn", 1)
    predict(client, "churn")
    body = deploy(client, "churn", 2)
    assert body["items"][0]["version"] == 2
    assert body["items"][0]["requests"] == 0


def test_artifact_schema_must_match_the_registered_schema(env, client):
    env.publish("churn", 1, make_artifact(seed=1), input_schema={"features": ["a", "b", "c"]})
    response = client.post(DEPLOY.format("churn"), json={"version": 1})
    assert response.status_code == 422
    assert response.json()["details"]["registered"] == ["a", "b", "c"]


def test_version_without_artifact_is_refused(env, client):
    env.registry.add("churn", 1, "")
    response = client.post(DEPLOY.format("churn"), json={"version": 1})
    assert response.status_code == 422


def test_missing_artifact_file_is_refused_with_4xx(env, client):
    env.registry.add("churn", 1, "churn/v1/model.npz")
    response = client.post(DEPLOY.format("churn"), json={"version": 1})
    assert response.status_code == 422
    assert client.get("/api/v1/deployments").json()["items"] == []


def test_deploy_body_needs_a_positive_version(client):
    response = client.post(DEPLOY.format("churn"), json={"version": 0})
    assert response.status_code == 422
