"""Factories for ML tests: tiny datasets, configs and hand-built model artifacts."""

from __future__ import annotations

import numpy as np
import pytest

from shared.ml import files
from shared.ml.data import make_dataset
from shared.ml.model_loader import ModelArtifact
from shared.ml.trainer import TrainConfig

SCHEMA = ["age", "income", "score"]


def tiny_dataset(kind: str = "blobs", *, n_samples: int = 80, n_features: int = 3, seed: int = 7):
    """Return a small seeded dataset split."""
    return make_dataset(kind, n_samples, n_features, seed=seed)


def tiny_config(**overrides) -> TrainConfig:
    """Return a fast training config with optional overrides."""
    values = {"epochs": 4, "batch_size": 16, "lr": 0.1, "hidden": (6,)}
    values.update(overrides)
    return TrainConfig.from_dict(values)


def normalization(n: int = 3) -> dict[str, list[float]]:
    """Return non-trivial normalisation stats for ``n`` features."""
    return {"mean": [float(i + 1) for i in range(n)], "std": [0.5 + i for i in range(n)]}


def logistic_artifact(seed: int = 0) -> ModelArtifact:
    """Return a logistic model over ``SCHEMA`` with random weights."""
    rng = np.random.default_rng(seed)
    weights = {"W": rng.normal(size=3).astype(np.float32), "b": np.float32(0.25)}
    return ModelArtifact("logistic", weights, list(SCHEMA), {"normalization": normalization()})


def linear_artifact(seed: int = 0) -> ModelArtifact:
    """Return a linear regressor over ``SCHEMA`` with random weights."""
    rng = np.random.default_rng(seed)
    weights = {"W": rng.normal(size=3).astype(np.float32), "b": np.float32(-1.5)}
    return ModelArtifact("linear", weights, list(SCHEMA), {"normalization": normalization()})


def mlp_artifact(seed: int = 0, *, hidden: int = 3, n_classes: int = 3) -> ModelArtifact:
    """Return a batch-norm MLP classifier over ``SCHEMA`` with random weights and stats."""
    rng = np.random.default_rng(seed)

    def arr(*shape):
        return rng.normal(size=shape).astype(np.float32)

    weights = {
        "dense0.W": arr(3, hidden),
        "dense0.b": arr(hidden),
        "bn0.gamma": arr(hidden),
        "bn0.beta": arr(hidden),
        "bn0.running_mean": arr(hidden),
        "bn0.running_var": (np.abs(arr(hidden)) + 0.5).astype(np.float32),
        "dense1.W": arr(hidden, n_classes),
        "dense1.b": arr(n_classes),
    }
    metadata = {
        "normalization": normalization(),
        "architecture": {
            "hidden": [hidden],
            "batchnorm": True,
            "bn_eps": 1e-5,
            "output": "softmax",
            "n_outputs": n_classes,
        },
    }
    return ModelArtifact("mlp", weights, list(SCHEMA), metadata)


ARTIFACT_FACTORIES = {"logistic": logistic_artifact, "linear": linear_artifact, "mlp": mlp_artifact}


def raw_outputs(artifact: ModelArtifact, X: np.ndarray) -> np.ndarray:
    """Return probabilities for classifiers and values for regressors."""
    if artifact.kind == "linear" or artifact.metadata.get("task") == "regression":
        return artifact.predict(X)
    return artifact.predict_proba(X)


def sample_inputs(n: int = 6, seed: int = 1) -> np.ndarray:
    """Return raw inputs around the normalisation means."""
    return np.random.default_rng(seed).normal(2.0, 2.0, size=(n, 3)).astype(np.float32)


@pytest.fixture
def fake_fsync(monkeypatch):
    """Record disk syncs instead of performing them (fast tests; syncs stay assertable)."""
    calls: list[int] = []
    monkeypatch.setattr(files, "sync_fd", calls.append)
    return calls
