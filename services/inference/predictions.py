"""Turn request rows into model inputs and model outputs into prediction records."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from shared.errors import ValidationError
from shared.ml.model_loader import ModelArtifact


def task_of(artifact: ModelArtifact) -> str:
    """Return "classification" or "regression" for a loaded artifact."""
    if artifact.kind == "logistic":
        return "classification"
    if artifact.kind == "mlp":
        output = artifact.metadata.get("architecture", {}).get("output", "softmax")
        return "classification" if output == "softmax" else "regression"
    return "regression"


def instances_to_matrix(instances: list[Any], schema: list[str], max_rows: int) -> np.ndarray:
    """Validate feature dicts against the schema and return them as a float32 matrix."""
    if len(instances) > max_rows:
        raise ValidationError(f"at most {max_rows} instances per request")
    rows = [_row(i, record, schema) for i, record in enumerate(instances)]
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), len(schema))


def _row(index: int, record: Any, schema: list[str]) -> list[float]:
    if not isinstance(record, dict):
        raise ValidationError(f"instance {index} is not an object")
    missing = [f for f in schema if f not in record]
    unknown = sorted(set(record) - set(schema))
    if missing or unknown:
        raise ValidationError(
            f"instance {index} does not match the input schema",
            details={"instance": index, "missing": missing, "unknown": unknown},
        )
    non_numeric = [f for f in schema if not _is_number(record[f])]
    if non_numeric:
        raise ValidationError(
            f"instance {index} has non-numeric features",
            details={"instance": index, "non_numeric": non_numeric},
        )
    non_finite = [f for f in schema if not _is_finite(record[f])]
    if non_finite:
        raise ValidationError(
            f"instance {index} has NaN or infinite features",
            details={"instance": index, "non_finite": non_finite},
        )
    return [float(record[f]) for f in schema]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_finite(value: int | float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


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
