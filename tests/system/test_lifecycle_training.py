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
    assert record["run_id"] == trained.job["id"]
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
