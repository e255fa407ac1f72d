"""Held-out: training numerics on other sizes, offsets, schedules and precisions."""

from __future__ import annotations

import numpy as np
import pytest

from shared.errors import ValidationError
from shared.ml import metrics
from shared.ml.data import Standardizer
from shared.ml.trainer import evaluate, train
from shared.utils.distributed import RedisLockFactory
from tests.utils.inference import make_artifact
from tests.utils.ml import tiny_config, tiny_dataset

pytestmark = pytest.mark.training


def test_regression_metrics_over_1031_rows_weigh_every_row_equally():
    rng = np.random.default_rng(21)
    X = rng.normal(loc=[10.0, 40.0, 2.0], scale=[8.0, 30.0, 3.0], size=(1031, 3)).astype(np.float32)
    artifact = make_artifact("linear", seed=4)
    y = artifact.predict(X) + rng.normal(scale=np.linspace(0.1, 3.0, 1031)).astype(np.float32)
    expected = metrics.regression_metrics(y, artifact.predict(X))
    got = evaluate(artifact, X, y)
    assert got.keys() == expected.keys()
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, rel=1e-5), name


def test_features_near_fifty_thousand_standardise_to_their_true_spread():
    rng = np.random.default_rng(5)
    spread = np.array([0.5, 2.0, 7.0])
    X = (50_000.0 + rng.normal(size=(400, 3)) * spread).astype(np.float32)
    fitted = Standardizer.fit(X)
    np.testing.assert_allclose(fitted.std, X.astype(np.float64).std(axis=0), rtol=1e-3)


def test_cosine_schedule_over_four_accumulated_micro_batches_ends_at_its_floor():
    config = tiny_config(
        model="linear",
        lr=0.05,
        batch_size=4,
        accumulation_steps=4,
        epochs=5,
        schedule="warmup_cosine",
        warmup_steps=1,
    )
    result = train(config, tiny_dataset("regression", n_samples=50), seed=2)
    rates = [epoch["lr"] for epoch in result.history]
    assert rates[-1] == pytest.approx(0.0, abs=1e-12)
    assert rates[0] > rates[2] > rates[-1]


def test_mixed_precision_mlp_on_five_features_learns_like_its_float32_twin():
    data = tiny_dataset("blobs", n_samples=120, n_features=5, seed=3)
    params = {"model": "mlp", "epochs": 8, "lr": 0.1, "hidden": (8,)}
    amp = train(tiny_config(**params, mixed_precision=True), data, seed=6)
    full = train(tiny_config(**params), data, seed=6)
    assert amp.history[-1]["train_loss"] < 0.7 * amp.history[0]["train_loss"]
    assert amp.history[-1]["val_loss"] == pytest.approx(full.history[-1]["val_loss"], rel=0.05)


def test_redis_lease_of_zero_seconds_is_refused():
    factory = RedisLockFactory(client=object())
    with pytest.raises(ValidationError):
        factory("training/ltv", ttl=0.0)
