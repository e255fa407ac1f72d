"""The training loop: determinism, learning, accumulation, precision and early stopping."""

import numpy as np
import pytest

from shared.errors import ValidationError
from shared.ml.trainer import TrainConfig, evaluate, train
from tests.utils.ml import tiny_config, tiny_dataset

pytestmark = pytest.mark.training

CASES = {
    "logistic": ("blobs", {"model": "logistic"}),
    "linear": ("regression", {"model": "linear", "lr": 0.05}),
    "mlp": ("blobs", {"model": "mlp", "batchnorm": True}),
    "mlp_amp": ("linear_separable", {"model": "mlp", "mixed_precision": True}),
}


def run(case, seed=0, **overrides):
    kind, params = CASES[case]
    return train(tiny_config(**params, **overrides), tiny_dataset(kind), seed=seed)


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_seed_gives_bitwise_identical_weights(case):
    a, b = run(case, seed=11), run(case, seed=11)
    assert a.artifact.weights.keys() == b.artifact.weights.keys()
    for name, value in a.artifact.weights.items():
        assert np.array_equal(value, b.artifact.weights[name]), name


def test_different_seed_gives_different_weights():
    a, b = run("mlp", seed=1), run("mlp", seed=2)
    assert not np.array_equal(a.artifact.weights["dense0.W"], b.artifact.weights["dense0.W"])


def test_logistic_regression_separates_blobs():
    result = run("logistic")
    assert result.metrics["accuracy"] >= 0.9
    assert set(result.metrics) == {"accuracy", "precision", "recall", "f1", "log_loss"}


def test_linear_regression_fits_a_linear_target():
    result = run("linear", epochs=8)
    assert result.metrics["r2"] > 0.9 and result.metrics["rmse"] < 0.5


def test_mlp_with_batchnorm_learns_blobs():
    result = run("mlp", epochs=6)
    assert result.metrics["accuracy"] >= 0.9
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]


def test_mixed_precision_job_learns_and_ships_finite_weights():
    result = run("mlp_amp", epochs=6)
    for value in result.artifact.weights.values():
        assert value.dtype == np.float32 and np.all(np.isfinite(value))
    assert result.metrics["accuracy"] >= 0.7


def test_reported_metrics_match_the_returned_artifact():
    ds = tiny_dataset("blobs")
    result = train(tiny_config(model="mlp"), ds, seed=3)
    assert evaluate(result.artifact, ds.X_val, ds.y_val) == result.metrics


def test_normalisation_is_fitted_on_the_training_split():
    ds = tiny_dataset("blobs")
    result = train(tiny_config(model="logistic", epochs=1), ds, seed=0)
    norm = result.artifact.metadata["normalization"]
    np.testing.assert_allclose(norm["mean"], ds.X_train.mean(axis=0), rtol=1e-5)


def test_accumulated_micro_batches_match_one_large_batch():
    ds = tiny_dataset("regression", n_samples=40)  # 32 training rows
    big = train(tiny_config(model="linear", batch_size=16, epochs=2), ds, seed=4)
    small = train(
        tiny_config(model="linear", batch_size=8, accumulation_steps=2, epochs=2), ds, seed=4
    )
    for name, value in big.artifact.weights.items():
        np.testing.assert_allclose(small.artifact.weights[name], value, rtol=1e-5, atol=1e-6)


def test_early_stopping_stops_after_patience_epochs_without_improvement():
    result = run("logistic", epochs=10, patience=2, min_delta=1e9)
    assert len(result.history) == 3
    assert result.artifact.metadata["best_epoch"] == 0


def test_early_stopping_restores_the_best_epoch_weights():
    stopped = run("logistic", epochs=10, patience=2, min_delta=1e9)
    one_epoch = run("logistic", epochs=1)
    for name, value in one_epoch.artifact.weights.items():
        assert np.array_equal(stopped.artifact.weights[name], value)


def test_on_epoch_sees_every_epoch_record():
    seen = []
    kind, params = CASES["logistic"]
    train(tiny_config(**params, epochs=3), tiny_dataset(kind), seed=0, on_epoch=seen.append)
    assert [r["epoch"] for r in seen] == [0, 1, 2]
    assert all({"train_loss", "val_loss", "lr", "optimizer_steps"} <= set(r) for r in seen)


def test_history_counts_optimizer_steps_per_epoch():
    result = run("logistic", epochs=2)  # 64 training rows, batch 16
    assert [r["optimizer_steps"] for r in result.history] == [4, 8]


def test_unknown_hyperparameter_is_refused():
    with pytest.raises(ValidationError) as info:
        TrainConfig.from_dict({"lr": 0.1, "learning_rate": 0.2})
    assert info.value.details == {"unknown": ["learning_rate"]}


def test_logistic_model_refuses_regression_data():
    with pytest.raises(ValidationError, match="binary classification"):
        train(tiny_config(model="logistic"), tiny_dataset("regression"), seed=0)


def test_mixed_precision_recovers_from_an_oversized_loss_scale():
    result = run("mlp_amp", loss_scale=2.0**24, epochs=6)
    assert result.history[-1]["skipped_steps"] > 0
    for value in result.artifact.weights.values():
        assert np.all(np.isfinite(value))
    assert np.isfinite(result.history[-1]["train_loss"])
