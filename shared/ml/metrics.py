"""Classification and regression metrics with defined values on degenerate inputs."""

from __future__ import annotations

import numpy as np

from shared.errors import ValidationError
from shared.ml.arrays import FloatArray, NumberArray


def _pair(y_true: NumberArray, y_pred: NumberArray) -> tuple[NumberArray, NumberArray]:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape[0] != y_pred.shape[0] or y_true.shape[0] == 0:
        raise ValidationError("y_true and y_pred must be non-empty and the same length")
    return y_true, y_pred


def _ratio(num: float, den: float, zero_division: float) -> float:
    return float(num) / float(den) if den else zero_division


def accuracy(y_true: NumberArray, y_pred: NumberArray) -> float:
    """Return the fraction of exact matches."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def confusion_counts(y_true: NumberArray, y_pred: NumberArray, positive: int = 1) -> dict[str, int]:
    """Return tp, fp, fn and tn for one positive class."""
    y_true, y_pred = _pair(y_true, y_pred)
    t, p = y_true == positive, y_pred == positive
    return {
        "tp": int(np.sum(t & p)),
        "fp": int(np.sum(~t & p)),
        "fn": int(np.sum(t & ~p)),
        "tn": int(np.sum(~t & ~p)),
    }


def precision_recall_f1(
    y_true: NumberArray,
    y_pred: NumberArray,
    *,
    positive: int = 1,
    average: str = "binary",
    zero_division: float = 0.0,
) -> tuple[float, float, float]:
    """Return precision, recall and F1 ("binary" for ``positive``, or "macro" over labels).

    A ratio whose denominator is zero (no predicted or no actual positives) is
    ``zero_division`` instead of NaN.
    """
    if average == "macro":
        labels = np.union1d(np.asarray(y_true), np.asarray(y_pred))
        scores = [
            precision_recall_f1(y_true, y_pred, positive=int(c), zero_division=zero_division)
            for c in labels
        ]
        p, r, f = np.mean(np.asarray(scores), axis=0)
        return float(p), float(r), float(f)
    if average != "binary":
        raise ValidationError(f"unknown average {average!r}; expected binary or macro")
    c = confusion_counts(y_true, y_pred, positive)
    precision = _ratio(c["tp"], c["tp"] + c["fp"], zero_division)
    recall = _ratio(c["tp"], c["tp"] + c["fn"], zero_division)
    f1 = _ratio(2 * c["tp"], 2 * c["tp"] + c["fp"] + c["fn"], zero_division)
    return precision, recall, f1


def log_loss(y_true: NumberArray, proba: FloatArray, *, eps: float = 1e-7) -> float:
    """Return mean negative log-likelihood; ``proba`` is (n,) for P(y=1) or (n, k)."""
    y_true, paired = _pair(y_true, proba)
    proba = np.asarray(paired, dtype=np.float64)
    if proba.ndim == 1:
        proba = np.stack([1.0 - proba, proba], axis=1)
    labels = y_true.astype(np.int64)
    if labels.min() < 0 or labels.max() >= proba.shape[1]:
        raise ValidationError("labels fall outside the probability columns")
    picked = np.clip(proba[np.arange(len(labels)), labels], eps, 1.0)
    return float(-np.mean(np.log(picked)))


def rmse(y_true: NumberArray, y_pred: NumberArray) -> float:
    """Return the root mean squared error."""
    y_true, y_pred = _pair(y_true, y_pred)
    diff = y_true.astype(np.float64) - y_pred.astype(np.float64)
    return float(np.sqrt(np.mean(diff * diff)))


def r2_score(y_true: NumberArray, y_pred: NumberArray) -> float:
    """Return the coefficient of determination; constant targets give 1.0 if fit exactly, else 0."""
    y_true, y_pred = _pair(y_true, y_pred)
    t, p = y_true.astype(np.float64), y_pred.astype(np.float64)
    ss_res = float(np.sum((t - p) ** 2))
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


def classification_metrics(
    y_true: NumberArray, y_pred: NumberArray, proba: FloatArray
) -> dict[str, float]:
    """Return accuracy, precision, recall, F1 (binary or macro) and log loss."""
    average = "binary" if np.asarray(proba).ndim == 1 or np.shape(proba)[1] == 2 else "macro"
    precision, recall, f1 = precision_recall_f1(y_true, y_pred, average=average)
    return {
        "accuracy": accuracy(y_true, y_pred),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "log_loss": log_loss(y_true, proba),
    }


def regression_metrics(y_true: NumberArray, y_pred: NumberArray) -> dict[str, float]:
    """Return RMSE and R²."""
    return {"rmse": rmse(y_true, y_pred), "r2": r2_score(y_true, y_pred)}
