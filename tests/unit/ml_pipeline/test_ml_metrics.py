"""Classification and regression metrics, including degenerate inputs."""

import warnings

import numpy as np
import pytest

from shared.errors import ValidationError
from shared.ml.metrics import (
    accuracy,
    classification_metrics,
    log_loss,
    precision_recall_f1,
    r2_score,
    rmse,
)

pytestmark = pytest.mark.training


def test_accuracy_counts_exact_matches():
    assert accuracy(np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0])) == 0.75


def test_precision_recall_f1_binary():
    y_true, y_pred = np.array([1, 1, 1, 0, 0]), np.array([1, 1, 0, 1, 0])
    p, r, f = precision_recall_f1(y_true, y_pred)
    assert (p, r) == (pytest.approx(2 / 3), pytest.approx(2 / 3))
    assert f == pytest.approx(2 / 3)


def test_no_positives_gives_zero_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p, r, f = precision_recall_f1(np.zeros(4, dtype=int), np.zeros(4, dtype=int))
    assert (p, r, f) == (0.0, 0.0, 0.0)


def test_macro_average_over_three_classes():
    y_true, y_pred = np.array([0, 1, 2, 2]), np.array([0, 1, 2, 1])
    p, r, f = precision_recall_f1(y_true, y_pred, average="macro")
    assert p == pytest.approx((1 + 0.5 + 1) / 3)
    assert r == pytest.approx((1 + 1 + 0.5) / 3)


def test_log_loss_of_binary_probabilities():
    loss = log_loss(np.array([1, 0]), np.array([0.8, 0.4]))
    assert loss == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)


def test_log_loss_is_finite_for_confident_mistakes():
    loss = log_loss(np.array([1]), np.array([[1.0, 0.0]]))
    assert np.isfinite(loss) and loss == pytest.approx(-np.log(1e-7))


def test_rmse_and_r2_of_a_known_fit():
    y_true, y_pred = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0])
    assert rmse(y_true, y_pred) == pytest.approx(np.sqrt(1 / 3))
    assert r2_score(y_true, y_pred) == pytest.approx(1 - 1 / 2)


def test_r2_of_constant_targets_is_defined():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert r2_score(np.ones(3), np.ones(3)) == 1.0
        assert r2_score(np.ones(3), np.zeros(3)) == 0.0


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValidationError):
        accuracy(np.array([1, 0]), np.array([1]))


def test_classification_metrics_bundle():
    out = classification_metrics(
        np.array([1, 0]), np.array([1, 0]), np.array([[0.1, 0.9], [0.8, 0.2]])
    )
    assert out["accuracy"] == 1.0 and out["f1"] == 1.0
    assert out["log_loss"] == pytest.approx(-(np.log(0.9) + np.log(0.8)) / 2)
