"""Model lifecycle end to end: train → register → promote → deploy → predict via the gateway."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

from tests.utils.inference import write_hostile_npz
from tests.utils.platform import PLATFORM_DB, reference_predictions, rows

pytestmark = [pytest.mark.inference, PLATFORM_DB]


def release(name, platform, trained):
    """Promote and deploy a trained version, asserting both succeed."""
    platform.promote(name, trained.version)
    response = platform.deploy(name, trained.version)
    assert response.status_code == 200, response.text


def served(platform, name, data):
    response = platform.predict(name, data)
    assert response.status_code == 200, response.text
    body = response.json()
    labels = [p["label"] for p in body["predictions"]]
    probs = [p["probability"] for p in body["predictions"]]
    return body, labels, probs


def assert_serves(platform, name, trained):
    """Assert the gateway's predictions equal the trained model's own."""
    data = rows()
    body, labels, probs = served(platform, name, data)
    expected_labels, expected_probs = reference_predictions(trained.artifact, data)
    assert body["version"] == trained.version
    assert labels == expected_labels
    np.testing.assert_allclose(probs, expected_probs, rtol=1e-5)


def test_trained_model_serves_its_own_labels_through_the_gateway(platform):
    trained = platform.train("churn")
    release("churn", platform, trained)
    data = rows()
    body, labels, _ = served(platform, "churn", data)
    assert (body["model"], body["version"]) == ("churn", 1)
    assert labels == reference_predictions(trained.artifact, data)[0]
    assert set(labels) == {0, 1}


def test_served_probabilities_match_the_trained_model(platform):
    trained = platform.train("churn")
    release("churn", platform, trained)
    data = rows()
    _, _, probs = served(platform, "churn", data)
    np.testing.assert_allclose(probs, reference_predictions(trained.artifact, data)[1], rtol=1e-5)


def test_inference_waited_for_the_warming_registry_before_serving(platform):
    trained = platform.train("churn")
    release("churn", platform, trained)
    assert_serves(platform, "churn", trained)
    probes = platform.registry.health_probes
    assert probes[-1] == 200 and probes[:-1] and set(probes[:-1]) == {503}
    assert platform.gateway.get("/api/inference/health").json()["status"] == "ok"


def test_swapping_to_a_new_version_serves_its_predictions(platform):
    v1 = platform.train("churn", seed=7)
    release("churn", platform, v1)
    assert_serves(platform, "churn", v1)
    v2 = platform.train("churn", seed=8)
    release("churn", platform, v2)
    assert_serves(platform, "churn", v2)


def test_swapping_to_a_new_version_releases_the_old_model(platform):
    v1 = platform.train("churn", seed=7)
    release("churn", platform, v1)
    assert_serves(platform, "churn", v1)
    old = platform.server.loaded_model("churn", 1)
    model_ref, weights_ref = weakref.ref(old), weakref.ref(old.weights["W"])
    del old
    v2 = platform.train("churn", seed=8)
    release("churn", platform, v2)
    assert_serves(platform, "churn", v2)
    gc.collect(0)
    assert model_ref() is None
    assert weights_ref() is None


def test_tampered_artifact_is_refused_and_the_serving_version_keeps_serving(platform, tmp_path):
    v1 = platform.train("churn", seed=7)
    release("churn", platform, v1)
    assert_serves(platform, "churn", v1)
    v2 = platform.train("churn", seed=8)
    release("churn", platform, v2)
    marker = tmp_path / "payload-ran"
    write_hostile_npz(platform.artifact_path("churn", 1), marker, keys=("model",))
    response = platform.deploy("churn", 1)
    assert response.status_code == 422
    assert response.json()["error"] == "unsafe_artifact"
    assert_serves(platform, "churn", v2)
    assert not marker.exists()


def test_rolling_back_serves_the_first_version_again(platform):
    v1 = platform.train("churn", seed=7)
    release("churn", platform, v1)
    v2 = platform.train("churn", seed=8)
    release("churn", platform, v2)
    assert platform.deploy("churn", 1).status_code == 200
    assert_serves(platform, "churn", v1)


def test_predicting_a_model_never_deployed_is_404(platform):
    trained = platform.train("churn")
    release("churn", platform, trained)
    response = platform.predict("fraud", rows(2))
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert_serves(platform, "churn", trained)


def test_deploying_a_version_the_registry_does_not_have_is_404(platform):
    trained = platform.train("churn")
    release("churn", platform, trained)
    assert platform.deploy("churn", 9).status_code == 404
    assert_serves(platform, "churn", trained)


def test_rows_that_do_not_match_the_trained_schema_are_422(platform):
    trained = platform.train("churn")
    release("churn", platform, trained)
    bad = [{"f0": 1.0, "f1": 2.0, "age": 3.0}]
    response = platform.predict("churn", bad)
    assert response.status_code == 422
    assert response.json()["details"] == {"instance": 0, "missing": ["f2"], "unknown": ["age"]}


def test_deployments_count_requests_and_errors_across_the_lifecycle(platform):
    trained = platform.train("churn")
    release("churn", platform, trained)
    assert_serves(platform, "churn", trained)
    platform.predict("churn", [{"f0": "high", "f1": 1.0, "f2": 2.0}])
    [item] = platform.gateway.get("/api/inference/api/v1/deployments").json()["items"]
    assert (item["version"], item["requests"], item["errors"]) == (1, 2, 1)
    assert item["input_schema"] == ["f0", "f1", "f2"]


def test_undeployed_model_is_no_longer_served(platform):
    trained = platform.train("churn")
    release("churn", platform, trained)
    assert_serves(platform, "churn", trained)
    assert platform.gateway.delete("/api/inference/api/v1/deployments/churn").status_code == 204
    assert platform.predict("churn", rows(2)).status_code == 404
