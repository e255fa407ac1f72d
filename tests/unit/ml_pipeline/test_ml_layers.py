"""Layer forward/backward, batch-norm train/eval behaviour and numerically stable losses."""

import numpy as np
import pytest

from shared.errors import ValidationError
from shared.ml.layers import MLP, BatchNorm1d, Dense, mse, sigmoid_bce, softmax_cross_entropy

pytestmark = pytest.mark.training


def numeric_grad(f, x, eps=1e-3):
    x = x.astype(np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (f(up) - f(down)) / (2 * eps)
    return grad


@pytest.fixture
def batch():
    return np.random.default_rng(0).normal(3.0, 2.0, size=(6, 4)).astype(np.float32)


def test_dense_backward_matches_numeric_gradient():
    rng = np.random.default_rng(1)
    layer = Dense(3, 2, rng=rng)
    x = rng.normal(size=(4, 3)).astype(np.float32)
    weights = rng.normal(size=(4, 2))
    layer.forward(x)
    layer.backward(weights.astype(np.float32))

    def f(W):
        return float(np.sum((x @ W + layer.params["b"]) * weights))

    np.testing.assert_allclose(layer.grads["W"], numeric_grad(f, layer.params["W"]), rtol=1e-2)


def test_batchnorm_training_normalises_with_batch_statistics(batch):
    out = BatchNorm1d(4).forward(batch, training=True)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=0), 1.0, atol=1e-3)


def test_batchnorm_training_updates_running_stats_with_momentum(batch):
    bn = BatchNorm1d(4, momentum=0.1)
    bn.forward(batch, training=True)
    expected_mean = 0.9 * 0.0 + 0.1 * batch.mean(axis=0)
    expected_var = 0.9 * 1.0 + 0.1 * batch.var(axis=0, ddof=1)
    np.testing.assert_allclose(bn.buffers["running_mean"], expected_mean, rtol=1e-5)
    np.testing.assert_allclose(bn.buffers["running_var"], expected_var, rtol=1e-5)


def test_batchnorm_eval_leaves_running_stats_unchanged(batch):
    bn = BatchNorm1d(4)
    bn.forward(batch, training=True)
    before = {k: v.copy() for k, v in bn.buffers.items()}
    bn.forward(batch * 10 + 5, training=False)
    for key, value in before.items():
        assert np.array_equal(bn.buffers[key], value)


def test_batchnorm_eval_uses_running_statistics(batch):
    bn = BatchNorm1d(4)
    bn.buffers["running_mean"] = np.full(4, 1.0, dtype=np.float32)
    bn.buffers["running_var"] = np.full(4, 4.0, dtype=np.float32)
    out = bn.forward(batch, training=False)
    np.testing.assert_allclose(out, (batch - 1.0) / np.sqrt(4.0 + 1e-5), rtol=1e-5)


def test_batchnorm_eval_output_does_not_depend_on_the_batch(batch):
    bn = BatchNorm1d(4)
    bn.forward(batch, training=True)
    full = bn.forward(batch, training=False)
    single = bn.forward(batch[2:3], training=False)
    np.testing.assert_allclose(single[0], full[2], rtol=1e-6)


def test_batchnorm_training_refuses_a_batch_of_one(batch):
    with pytest.raises(ValidationError):
        BatchNorm1d(4).forward(batch[:1], training=True)


def test_batchnorm_backward_matches_numeric_gradient(batch):
    bn = BatchNorm1d(4)
    weights = np.random.default_rng(2).normal(size=batch.shape)
    bn.forward(batch, training=True)
    dx = bn.backward(weights.astype(np.float32))

    def f(x):
        probe = BatchNorm1d(4)
        return float(np.sum(probe.forward(x.astype(np.float32), training=True) * weights))

    np.testing.assert_allclose(dx, numeric_grad(f, batch, eps=1e-2), atol=2e-2)


def test_a_rows_prediction_does_not_depend_on_its_batch_mates(batch):
    mlp = MLP([4, 5, 3], rng=np.random.default_rng(0), batchnorm=True)
    mlp.train().forward(batch)
    mlp.eval()
    full = mlp.forward(batch)
    stats = {k: v.copy() for k, v in mlp.buffers().items()}
    np.testing.assert_allclose(mlp.forward(batch[4:5])[0], full[4], rtol=1e-5, atol=1e-7)
    assert all(np.array_equal(mlp.buffers()[k], v) for k, v in stats.items())


def test_mlp_backward_returns_gradients_for_every_parameter(batch):
    mlp = MLP([4, 5, 2], rng=np.random.default_rng(0), batchnorm=True)
    out = mlp.forward(batch)
    grads = mlp.backward(np.ones_like(out) / len(out))
    assert set(grads) == set(mlp.parameters())
    assert all(grads[k].shape == p.shape for k, p in mlp.parameters().items())


def test_softmax_cross_entropy_is_finite_for_huge_logits():
    logits = np.array([[1000.0, 0.0], [0.0, -1000.0]], dtype=np.float32)
    loss, grad = softmax_cross_entropy(logits, np.array([1, 1]))
    assert loss == pytest.approx(1000.0, rel=1e-4)
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-6)


def test_sigmoid_bce_is_finite_for_huge_logits():
    loss, grad = sigmoid_bce(np.array([200.0, -200.0], dtype=np.float32), np.array([0, 1]))
    assert loss == pytest.approx(200.0, rel=1e-4)
    np.testing.assert_allclose(grad, [0.5, -0.5], atol=1e-6)


def test_mse_gradient_is_mean_scaled():
    loss, grad = mse(np.array([1.0, 3.0]), np.array([0.0, 0.0]))
    assert loss == pytest.approx(5.0)
    assert grad.tolist() == [1.0, 3.0]


def test_predicting_leaves_the_model_unchanged(batch):
    mlp = MLP([4, 5, 3], rng=np.random.default_rng(0), batchnorm=True)
    mlp.train().forward(batch)
    before = {k: v.copy() for k, v in mlp.buffers().items()}
    mlp.eval().forward(batch * 3.0 - 7.0)
    for key, value in before.items():
        assert np.array_equal(mlp.buffers()[key], value), key


def test_batchnorm_of_a_feature_that_never_varied_is_finite_and_centred():
    constant = np.full((6, 2), 3.5, dtype=np.float32)
    bn = BatchNorm1d(2, momentum=1.0)
    trained = bn.forward(constant, training=True)
    served = bn.forward(constant, training=False)
    for out in (trained, served):
        assert np.all(np.isfinite(out))
        np.testing.assert_allclose(out, 0.0, atol=1e-6)
