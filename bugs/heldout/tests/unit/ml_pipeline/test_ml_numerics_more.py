"""Held-out: batching, loss scaling, accumulation and eval mode on other sizes and values."""

import numpy as np
import pytest

from shared.ml.data import BatchIterator
from shared.ml.layers import MLP
from shared.ml.optim import SGD, GradientAccumulator
from shared.ml.precision import DynamicLossScaler, MixedPrecisionOptimizer

pytestmark = pytest.mark.training


def test_batch_counts_match_the_batches_yielded_for_many_sizes():
    for n, size in [(1, 3), (7, 2), (33, 8), (100, 7), (9, 9)]:
        for drop_last in (False, True):
            batches = BatchIterator(n, size, rng=np.random.default_rng(5), drop_last=drop_last)
            items = list(batches)
            assert len(batches) == len(items)
            want = n // size if drop_last else -(-n // size)
            assert len(items) == want


def test_a_single_short_batch_is_still_a_batch():
    batches = BatchIterator(3, 16, rng=np.random.default_rng(1))
    assert len(batches) == 1
    assert sorted(np.concatenate(list(batches)).tolist()) == [0, 1, 2]


def _amp(scale):
    master = {"a": np.zeros(3, dtype=np.float32), "b": np.ones(2, dtype=np.float32)}
    scaler = DynamicLossScaler(scale, growth_interval=100)
    return MixedPrecisionOptimizer(SGD(master, lr=0.5), scaler)


def test_negative_infinity_in_any_gradient_skips_the_step_and_halves_the_scale():
    opt = _amp(4096.0)
    grads = {
        "a": np.zeros(3, dtype=np.float16),
        "b": np.array([1.0, -np.inf], dtype=np.float16),
    }
    assert opt.step(grads) is False
    assert opt.scaler.scale == 2048.0
    assert opt.master["a"].tolist() == [0.0, 0.0, 0.0]
    assert opt.master["b"].tolist() == [1.0, 1.0]


def test_accumulating_float16_gradients_past_the_float16_range_keeps_the_exact_mean():
    acc = GradientAccumulator(3)
    for value in (60000.0, 50000.0, 40000.0):
        acc.add({"g": np.full((2, 2), value, dtype=np.float16)})
    mean = acc.mean()["g"]
    assert np.all(np.isfinite(mean))
    np.testing.assert_allclose(mean, np.full((2, 2), 50000.0), rtol=1e-3)


def test_eval_mode_output_of_a_deeper_batchnorm_mlp_does_not_depend_on_the_batch():
    rng = np.random.default_rng(11)
    mlp = MLP([3, 6, 6, 2], rng=rng, batchnorm=True)
    for _ in range(3):
        mlp.train().forward(rng.normal(size=(16, 3)).astype(np.float32))
    mlp.eval()
    rows = rng.normal(5.0, 4.0, size=(6, 3)).astype(np.float32)
    together = mlp.forward(rows)
    alone = np.concatenate([mlp.forward(rows[i : i + 1]) for i in range(len(rows))])
    np.testing.assert_allclose(alone, together, rtol=1e-5, atol=1e-6)
