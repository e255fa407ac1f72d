"""Training end to end: jobs through the gateway register versions that inference can serve."""

from __future__ import annotations

import numpy as np
import pytest

from shared.ml.data import make_dataset
from shared.ml.model_loader import file_sha256
from tests.utils.platform import PLATFORM_DB, rows

pytestmark = [pytest.mark.training, PLATFORM_DB]


def test_job_registers_a_version_with_its_metrics_and_checksum(platform):
    trained = platform.train("churn")
    record = platform.version("churn", trained.version)
    run = platform.gateway.get(f"/api/experiments/api/v1/runs/{record['run_id']}").json()
    assert run["tags"]["job_id"] == trained.job["id"]
    assert record["metrics"] == pytest.approx(trained.job["metrics"])
    assert record["params"]["artifact_sha256"] == file_sha256(platform.artifact_path("churn", 1))
    assert record["input_schema"] == {"features": ["f0", "f1", "f2"]}


def test_job_after_a_promotion_descends_from_the_production_version(platform):
    first = platform.train("churn", seed=7)
    platform.promote("churn", first.version)
    second = platform.train("churn", seed=8)
    assert second.version == 2
    assert platform.version("churn", 2)["parent_version"] == 1


def test_retrained_model_descends_from_its_own_production_version(platform):
    platform.train("churn", seed=7)
    first = platform.train("fraud", seed=7)
    platform.promote("fraud", first.version)
    second = platform.train("fraud", seed=8)
    assert (first.version, second.version) == (1, 2)
    assert platform.version("fraud", 2)["parent_version"] == 1


def test_promoting_the_retrained_version_archives_the_first(platform):
    first = platform.train("churn", seed=7)
    platform.promote("churn", first.version)
    second = platform.train("churn", seed=8)
    platform.promote("churn", second.version)
    assert platform.version("churn", 1)["stage"] == "Archived"
    assert platform.version("churn", 2)["stage"] == "Production"


def test_trained_regressor_is_served_with_its_own_values(platform):
    trained = platform.train("demand", kind="regression")
    platform.promote("demand", trained.version)
    assert platform.deploy("demand", trained.version).status_code == 200
    data = rows()
    response = platform.predict("demand", data)
    assert response.status_code == 200, response.text
    values = [p["value"] for p in response.json()["predictions"]]
    artifact = trained.artifact
    X = np.asarray([[r[f] for f in artifact.input_schema] for r in data], dtype=np.float32)
    norm = artifact.metadata.get("normalization")
    if norm is not None:
        X = (X - np.asarray(norm["mean"], np.float32)) / np.asarray(norm["std"], np.float32)
    expected = X @ artifact.weights["W"] + artifact.weights["b"]
    np.testing.assert_allclose(values, expected, rtol=1e-5, atol=1e-5)
    assert response.json()["task"] == "regression"


def test_served_accuracy_on_the_validation_split_equals_the_job_metric(platform):
    trained = platform.train("churn", n_samples=96)
    platform.promote("churn", trained.version)
    assert platform.deploy("churn", trained.version).status_code == 200
    data = make_dataset("classification", 96, 3, seed=7, val_fraction=0.25)
    instances = [{f"f{j}": float(v) for j, v in enumerate(row)} for row in data.X_val]
    response = platform.predict("churn", instances)
    labels = np.asarray([p["label"] for p in response.json()["predictions"]])
    accuracy = float(np.mean(labels == data.y_val))
    assert accuracy == pytest.approx(trained.job["metrics"]["accuracy"])
    assert accuracy >= 0.9


LARGE = {"kind": "linear_separable", "n_samples": 5000}


def served_val_labels_and_proba(platform, name, data):
    """Return the served labels and P(label 1) for every validation row, in request-sized pages."""
    labels, p1 = [], []
    for start in range(0, len(data.X_val), 500):
        page = data.X_val[start : start + 500]
        instances = [{f"f{j}": float(v) for j, v in enumerate(row)} for row in page]
        response = platform.predict(name, instances)
        assert response.status_code == 200, response.text
        for p in response.json()["predictions"]:
            labels.append(p["label"])
            p1.append(p["probability"] if p["label"] == 1 else 1.0 - p["probability"])
    return np.asarray(labels), np.asarray(p1)


@pytest.fixture
def large_job(platform):
    trained = platform.train("churn", **LARGE)
    platform.promote("churn", trained.version)
    assert platform.deploy("churn", trained.version).status_code == 200
    data = make_dataset(LARGE["kind"], LARGE["n_samples"], 3, seed=7, val_fraction=0.25)
    return trained, served_val_labels_and_proba(platform, "churn", data), data.y_val


def test_reported_accuracy_is_what_the_served_model_scores(platform, large_job):
    trained, (labels, _), y_val = large_job
    served = float(np.mean(labels == y_val))
    assert trained.job["metrics"]["accuracy"] == pytest.approx(served, abs=1e-9)
    recorded = platform.version("churn", trained.version)["metrics"]
    assert recorded["accuracy"] == pytest.approx(served, abs=1e-9)


def test_last_epoch_validation_loss_is_the_served_models_log_loss(large_job):
    trained, (_, p1), y_val = large_job
    picked = np.clip(np.where(y_val == 1, p1, 1.0 - p1), 1e-7, 1.0)
    served_log_loss = float(-np.mean(np.log(picked)))
    assert trained.job["history"][-1]["val_loss"] == pytest.approx(served_log_loss, rel=1e-4)


def served_probabilities(platform, trained, name):
    platform.promote(name, trained.version)
    assert platform.deploy(name, trained.version).status_code == 200
    response = platform.predict(name, rows(40))
    assert response.status_code == 200, response.text
    return [(p["label"], p["probability"]) for p in response.json()["predictions"]]


def test_mixed_precision_job_ends_close_to_the_same_job_in_float32(platform):
    single = platform.train("churn", epochs=4)
    mixed = platform.train("fraud", epochs=4, mixed_precision=True)
    losses = [[e["val_loss"] for e in t.job["history"]] for t in (single, mixed)]
    assert losses[1] == pytest.approx(losses[0], abs=0.02)
    served = [
        served_probabilities(platform, t, n) for t, n in ((single, "churn"), (mixed, "fraud"))
    ]
    assert [label for label, _ in served[1]] == [label for label, _ in served[0]]
    assert [p for _, p in served[1]] == pytest.approx([p for _, p in served[0]], abs=0.02)


def served_predictions(platform, name, X):
    instances = [{f"f{j}": float(v) for j, v in enumerate(row)} for row in X]
    response = platform.predict(name, instances)
    assert response.status_code == 200, response.text
    return response.json()["predictions"]


def test_shifting_every_feature_by_a_constant_trains_the_same_classifier(platform):
    offset = 1.0e6
    for name, shift in (("near", 0.0), ("far", offset)):
        trained = platform.train(name, n_samples=200, dataset_offset=shift)
        platform.promote(name, trained.version)
        assert platform.deploy(name, trained.version).status_code == 200
    near = make_dataset("classification", 200, 3, seed=7, val_fraction=0.25)
    far = make_dataset("classification", 200, 3, seed=7, val_fraction=0.25, offset=offset)
    expected = served_predictions(platform, "near", near.X_val)
    served = served_predictions(platform, "far", far.X_val)
    assert [p["label"] for p in served] == [p["label"] for p in expected]
    probabilities = [p["probability"] for p in expected]
    assert [p["probability"] for p in served] == pytest.approx(probabilities, abs=0.01)
    assert float(np.mean(np.asarray([p["label"] for p in served]) == far.y_val)) >= 0.9
