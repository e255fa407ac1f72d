"""SGD updates, gradient accumulation and global-norm clipping."""

import numpy as np
import pytest

from shared.errors import ValidationError
from shared.ml.optim import SGD, GradientAccumulator, clip_grad_norm, global_norm

pytestmark = pytest.mark.training


def params(*values):
    return {"w": np.array(values, dtype=np.float32)}


def test_plain_sgd_step_moves_against_the_gradient():
    p = params(1.0, -2.0)
    SGD(p, lr=0.5).step({"w": np.array([2.0, -4.0])})
    assert p["w"].tolist() == [0.0, 0.0]


def test_momentum_accumulates_velocity_across_steps():
    p = params(0.0)
    opt = SGD(p, lr=0.1, momentum=0.9)
    opt.step({"w": np.array([1.0])})
    opt.step({"w": np.array([1.0])})
    assert p["w"][0] == pytest.approx(-(0.1 * 1.0 + 0.1 * 1.9), rel=1e-6)


def test_weight_decay_shrinks_weights_without_gradient():
    p = params(2.0)
    SGD(p, lr=0.1, weight_decay=0.5).step({"w": np.array([0.0])})
    assert p["w"][0] == pytest.approx(2.0 - 0.1 * 0.5 * 2.0)


def test_step_learning_rate_override_is_used():
    p = params(1.0)
    SGD(p, lr=1.0).step({"w": np.array([1.0])}, lr=0.25)
    assert p["w"][0] == pytest.approx(0.75)


def test_optimizer_state_round_trips():
    p = params(0.0)
    opt = SGD(p, lr=0.1, momentum=0.9)
    opt.step({"w": np.array([1.0])})
    clone = SGD(params(0.0), lr=0.1, momentum=0.9)
    clone.load_state_dict(opt.state_dict())
    assert clone.steps == 1 and clone.velocity["w"].tolist() == [1.0]


def test_mismatched_gradient_names_are_refused():
    with pytest.raises(ValidationError):
        SGD(params(0.0), lr=0.1).step({"v": np.array([1.0])})


def test_accumulator_averages_micro_batch_gradients():
    acc = GradientAccumulator(3)
    for value in (1.0, 2.0, 6.0):
        acc.add({"w": np.array([value], dtype=np.float32)})
    assert acc.ready
    assert acc.mean()["w"].tolist() == [3.0]


def test_accumulating_many_large_micro_batches_stays_finite():
    acc = GradientAccumulator(4)
    for _ in range(4):
        acc.add({"w": np.full(3, 30000.0, dtype=np.float16)})
    mean = acc.mean()["w"]
    assert np.all(np.isfinite(mean)) and mean.tolist() == [30000.0] * 3


def test_accumulated_mean_equals_full_batch_gradient():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(8, 2)).astype(np.float32), rng.normal(size=8).astype(np.float32)
    w = np.array([0.5, -0.5], dtype=np.float32)

    def grad(Xb, yb):
        return {"w": 2 * Xb.T @ (Xb @ w - yb) / len(yb)}

    acc = GradientAccumulator(2)
    acc.add(grad(X[:4], y[:4]))
    acc.add(grad(X[4:], y[4:]))
    np.testing.assert_allclose(acc.mean()["w"], grad(X, y)["w"], rtol=1e-5)


def test_accumulator_reset_starts_a_new_window():
    acc = GradientAccumulator(2)
    acc.add({"w": np.array([4.0])})
    acc.reset()
    acc.add({"w": np.array([1.0])})
    assert not acc.ready and acc.mean()["w"].tolist() == [1.0]


def test_clip_scales_gradients_to_max_norm():
    grads = {"a": np.array([3.0], dtype=np.float32), "b": np.array([4.0], dtype=np.float32)}
    norm = clip_grad_norm(grads, 1.0)
    assert norm == pytest.approx(5.0)
    assert global_norm(grads) == pytest.approx(1.0, rel=1e-5)
    assert grads["a"][0] == pytest.approx(0.6, rel=1e-5)


def test_clip_leaves_small_gradients_alone():
    grads = {"a": np.array([0.3, 0.4], dtype=np.float32)}
    clip_grad_norm(grads, 1.0)
    assert grads["a"].tolist() == pytest.approx([0.3, 0.4])


def test_global_norm_of_float16_gradients_does_not_overflow():
    grads = {"a": np.full(4, 60000.0, dtype=np.float16)}
    assert global_norm(grads) == pytest.approx(120000.0, rel=1e-3)
