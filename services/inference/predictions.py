"""Describe a loaded model's task and turn its outputs into prediction records."""

from __future__ import annotations

from typing import Any

import numpy as np

from shared.ml.model_loader import ModelArtifact


def task_of(artifact: ModelArtifact) -> str:
    """Return "classification" or "regression" for a loaded artifact."""
    if artifact.kind == "logistic":
        return "classification"
    if artifact.kind == "mlp":
        output = artifact.metadata.get("architecture", {}).get("output", "softmax")
        return "classification" if output == "softmax" else "regression"
    return "regression"


def format_predictions(artifact: ModelArtifact, X: np.ndarray) -> list[dict[str, Any]]:
    """Return one prediction per row: label and probability, or a regression value."""
    if task_of(artifact) == "regression":
        return [{"value": float(v)} for v in artifact.predict(X)]
    labels = artifact.predict(X)
    proba = artifact.predict_proba(X)
    return [
        {"label": int(label), "probability": float(proba[i, int(label)])}
        for i, label in enumerate(labels)
    ]


def warm_up(artifact: ModelArtifact) -> None:
    """Run one prediction on a row of zeros in the input schema; raise if it fails.

    A version takes traffic only after this answer is finite, so a model whose weights or
    normalisation are broken fails its deploy instead of the first caller's request.
    """
    X = np.zeros((1, len(artifact.input_schema)), dtype=np.float32)
    for prediction in format_predictions(artifact, X):
        if not np.all(np.isfinite(list(prediction.values()))):
            raise ValueError(f"the warm-up prediction is not finite: {prediction}")
