"""Held-out: deploys, swaps and rollbacks on other models, versions and kinds."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

from shared.ml.model_loader import ModelArtifact
from tests.utils.inference import ROWS, make_artifact, make_env, matrix, running, write_hostile_npz

pytestmark = pytest.mark.inference

DEPLOY = "/api/v1/deployments/{}"
PREDICT = "/api/v1/models/{}/predict"


@pytest.fixture
def env(tmp_path):
    return make_env(tmp_path / "artifacts")


@pytest.fixture
def client(env):
    with running(env) as client:
        yield client


def deploy(client, name, version):
    response = client.post(DEPLOY.format(name), json={"version": version})
    assert response.status_code == 200, response.text
    return response.json()


def predict(client, name, rows=ROWS):
    response = client.post(PREDICT.format(name), json={"instances": rows})
    assert response.status_code == 200, response.text
    return response.json()


def test_third_version_of_an_mlp_releases_both_earlier_versions(env, client):
    for version, seed in ((3, 31), (4, 41), (6, 61)):
        env.publish("segments", version, make_artifact("mlp", seed=seed))
    deploy(client, "segments", 3)
    predict(client, "segments")
    first = weakref.ref(env.server.loaded_model("segments", 3))
    deploy(client, "segments", 4)
    second = weakref.ref(env.server.loaded_model("segments", 4))
    deploy(client, "segments", 6)
    assert predict(client, "segments")["version"] == 6
    gc.collect(0)
    assert first() is None
    assert second() is None


def test_first_deploy_of_a_pickled_artifact_never_runs_its_payload(env, client, tmp_path):
    marker = tmp_path / "ran"
    write_hostile_npz(env.root / "lapsed" / "v2" / "model.npz", marker, keys=("model",))
    env.registry.add("lapsed", 2, "lapsed/v2/model.npz", input_schema={"features": ["a"]})
    response = client.post(DEPLOY.format("lapsed"), json={"version": 2})
    assert response.status_code == 422
    assert response.json()["error"] == "unsafe_artifact"
    assert not marker.exists()
    assert client.get("/api/v1/deployments").json()["items"] == []


def test_classifier_swapped_from_version_five_to_nine_answers_with_nines_probabilities(env, client):
    v5, v9 = make_artifact("logistic", seed=50), make_artifact("logistic", seed=90)
    env.publish("upsell", 5, v5)
    env.publish("upsell", 9, v9)
    deploy(client, "upsell", 5)
    predict(client, "upsell")
    deploy(client, "upsell", 9)
    rows = ROWS[::-1]
    body = predict(client, "upsell", rows)
    labels = [p["label"] for p in body["predictions"]]
    assert labels == v9.predict(matrix(rows)).tolist()
    expected = v9.predict_proba(matrix(rows))[np.arange(len(rows)), labels]
    np.testing.assert_allclose([p["probability"] for p in body["predictions"]], expected, rtol=1e-6)


def test_deploying_another_version_replaces_the_record_listed_for_the_model(env, client):
    env.publish("spend", 7, make_artifact("linear", seed=7))
    env.publish("spend", 3, make_artifact("linear", seed=3))
    deploy(client, "spend", 7)
    predict(client, "spend")
    predict(client, "spend")
    [item] = deploy(client, "spend", 3)["items"]
    assert (item["version"], item["requests"], item["errors"]) == (3, 0, 0)
    assert item["artifact_uri"] == "spend/v3/model.npz"


def test_a_model_over_five_features_rejects_rows_lacking_the_last_one(env, client):
    features = ["a", "b", "c", "d", "e"]
    weights = {"W": np.linspace(-1, 1, 5).astype(np.float32), "b": np.float32(0.5)}
    norm = {"mean": [0.0] * 5, "std": [1.0] * 5}
    env.publish("basket", 2, ModelArtifact("linear", weights, features, {"normalization": norm}))
    deploy(client, "basket", 2)
    row = {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0, "z": 5.0}
    response = client.post(PREDICT.format("basket"), json={"instances": [row]})
    assert response.status_code == 422
    assert response.json()["details"] == {"instance": 0, "missing": ["e"], "unknown": ["z"]}
    [item] = client.get("/api/v1/deployments").json()["items"]
    assert item["input_schema"] == features


def test_a_model_registered_under_a_hyphenated_name_is_deployed_at_a_high_version(env, client):
    model = make_artifact("linear", seed=21)
    env.publish("credit-risk", 12, model)
    [item] = deploy(client, "credit-risk", 12)["items"]
    assert (item["name"], item["version"]) == ("credit-risk", 12)
    values = [p["value"] for p in predict(client, "credit-risk")["predictions"]]
    np.testing.assert_allclose(values, model.predict(matrix()), rtol=1e-6)
