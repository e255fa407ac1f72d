"""Training sets pulled from the feature store: each example as of its own event time."""

from __future__ import annotations

from typing import Any

import numpy as np

from services.training.schemas import FeatureSetSpec
from shared.clients.features import FeatureSource
from shared.errors import ServiceUnavailableError, ValidationError
from shared.ml.data import Dataset, train_val_split

MIN_COMPLETE_ROWS = 4


def load_training_set(
    spec: FeatureSetSpec, source: FeatureSource | None, *, val_fraction: float, seed: int
) -> tuple[Dataset, dict[str, Any]]:
    """Fetch, join and split a feature-store training set; return it and what was used.

    Rows the store has no fresh value for (no row at or before the event time, or one past
    the view's TTL) are dropped and counted. What is returned for the job's record names the
    view's schema version the store answered with and the mean of every feature trained on.
    """
    if source is None:
        raise ServiceUnavailableError("the feature store is not configured for training")
    refs = [f"{spec.feature_view}:{name}" for name in spec.features]
    entity_rows = [
        {"entity_key": row.entity_key, "event_time": row.event_time.isoformat()}
        for row in spec.entity_rows
    ]
    pins = {spec.feature_view: spec.version} if spec.version is not None else None
    answer = source.training_set(refs, entity_rows, pins)
    matrix, labels = [], []
    for asked, joined in zip(spec.entity_rows, answer["rows"], strict=True):
        values = [joined["values"].get(ref) for ref in refs]
        if any(value is None for value in values):
            continue
        matrix.append([float(value) for value in values])
        labels.append(asked.label)
    if len(matrix) < MIN_COMPLETE_ROWS:
        raise ValidationError(
            f"only {len(matrix)} entity rows have every feature; need {MIN_COMPLETE_ROWS}"
        )
    X = np.asarray(matrix, dtype=np.float32)
    y = _labels(np.asarray(labels), spec.kind)
    X_tr, y_tr, X_val, y_val = train_val_split(X, y, val_fraction=val_fraction, seed=seed + 1)
    dataset = Dataset(
        X_train=X_tr,
        y_train=y_tr,
        X_val=X_val,
        y_val=y_val,
        feature_names=list(spec.features),
        task=spec.kind,
        n_classes=int(y.max()) + 1 if spec.kind == "classification" else 0,
    )
    used = {
        **spec.model_dump(mode="json", exclude={"entity_rows"}),
        "version": int(answer["versions"][spec.feature_view]),
        "rows": len(matrix),
        "dropped_rows": len(spec.entity_rows) - len(matrix),
        "means": {
            name: float(np.mean(X[:, i], dtype=np.float64)) for i, name in enumerate(spec.features)
        },
    }
    return dataset, used


def _labels(raw: np.ndarray, kind: str) -> np.ndarray:
    if kind == "regression":
        return raw.astype(np.float32)
    if np.any(raw < 0) or np.any(raw != np.round(raw)):
        raise ValidationError("classification labels must be whole numbers from 0")
    return raw.astype(np.int64)
