"""Numpy layers with forward/backward (Dense, ReLU, BatchNorm1d), models and stable losses."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from shared.errors import ValidationError
from shared.ml.arrays import FloatArray, NumberArray

Arrays = dict[str, FloatArray]


class Dense:
    """Affine layer ``x @ W + b`` with He-initialised weights."""

    def __init__(self, n_in: int, n_out: int, *, rng: np.random.Generator) -> None:
        scale = np.sqrt(2.0 / n_in)
        self.params: Arrays = {
            "W": (rng.standard_normal((n_in, n_out)) * scale).astype(np.float32),
            "b": np.zeros(n_out, dtype=np.float32),
        }
        self.grads: Arrays = {}
        self._x: FloatArray | None = None

    def forward(self, x: FloatArray, *, training: bool = True) -> FloatArray:
        """Return ``x @ W + b``; remember ``x`` for the backward pass."""
        self._x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, grad_out: FloatArray) -> FloatArray:
        """Store parameter gradients and return the gradient for the input."""
        assert self._x is not None, "forward must run before backward"
        self.grads = {"W": self._x.T @ grad_out, "b": grad_out.sum(axis=0)}
        return grad_out @ self.params["W"].T


class ReLU:
    """Elementwise ``max(x, 0)``."""

    def __init__(self) -> None:
        self.params: Arrays = {}
        self.grads: Arrays = {}
        self._mask: NDArray[np.bool_] | None = None

    def forward(self, x: FloatArray, *, training: bool = True) -> FloatArray:
        """Return ``max(x, 0)``."""
        self._mask = x > 0
        return np.where(self._mask, x, np.zeros_like(x))

    def backward(self, grad_out: FloatArray) -> FloatArray:
        """Pass gradients through where the input was positive."""
        assert self._mask is not None, "forward must run before backward"
        return np.where(self._mask, grad_out, np.zeros_like(grad_out))


class BatchNorm1d:
    """Batch normalisation over the batch axis with separate train and eval behaviour.

    Training normalises with the batch mean and (biased) variance and moves the running
    statistics towards them: ``running = (1 - momentum) * running + momentum * batch`` (the
    running variance uses the unbiased batch variance). Eval normalises with the running
    statistics and never changes them, so a row's output does not depend on its batch.
    """

    def __init__(self, n_features: int, *, momentum: float = 0.1, eps: float = 1e-5) -> None:
        self.momentum = np.float32(momentum)
        self.eps = np.float32(eps)
        self.params: Arrays = {
            "gamma": np.ones(n_features, dtype=np.float32),
            "beta": np.zeros(n_features, dtype=np.float32),
        }
        self.buffers: Arrays = {
            "running_mean": np.zeros(n_features, dtype=np.float32),
            "running_var": np.ones(n_features, dtype=np.float32),
        }
        self.grads: Arrays = {}
        self._cache: tuple[FloatArray, FloatArray] | None = None

    def forward(self, x: FloatArray, *, training: bool = True) -> FloatArray:
        """Normalise ``x``: batch statistics when training, running statistics otherwise."""
        gamma, beta = self.params["gamma"], self.params["beta"]
        if not training:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
            return (x - mean) / np.sqrt(var + self.eps) * gamma + beta
        n = x.shape[0]
        if n < 2:
            raise ValidationError("batch norm needs at least 2 samples per batch when training")
        x32 = x.astype(np.float32)
        mean = x32.mean(axis=0)
        var = x32.var(axis=0)
        self._update_running(mean, var * (n / (n - 1)))
        inv_std = 1.0 / np.sqrt(var + self.eps)
        x_hat = (x32 - mean) * inv_std
        self._cache = (x_hat, inv_std)
        return (x_hat * gamma + beta).astype(x.dtype)

    def _update_running(self, mean: FloatArray, unbiased_var: FloatArray) -> None:
        m = self.momentum
        rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
        self.buffers["running_mean"] = ((1 - m) * rm + m * mean).astype(np.float32)
        self.buffers["running_var"] = ((1 - m) * rv + m * unbiased_var).astype(np.float32)

    def backward(self, grad_out: FloatArray) -> FloatArray:
        """Return the input gradient of a training-mode forward pass."""
        assert self._cache is not None, "a training forward must run before backward"
        x_hat, inv_std = self._cache
        g = grad_out.astype(np.float32)
        gamma = self.params["gamma"].astype(np.float32)
        self.grads = {"gamma": (g * x_hat).sum(axis=0), "beta": g.sum(axis=0)}
        dx_hat = g * gamma
        n = g.shape[0]
        dx = inv_std / n * (n * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))
        return dx.astype(grad_out.dtype)


class MLP:
    """Dense → [BatchNorm] → ReLU blocks and a final Dense; names match the model artifact."""

    def __init__(
        self,
        sizes: list[int],
        *,
        rng: np.random.Generator,
        batchnorm: bool = False,
        bn_momentum: float = 0.1,
        bn_eps: float = 1e-5,
    ) -> None:
        if len(sizes) < 2:
            raise ValidationError("an MLP needs at least input and output sizes")
        self.layers: list[tuple[str, Dense | ReLU | BatchNorm1d]] = []
        n_hidden = len(sizes) - 2
        for i in range(n_hidden + 1):
            self.layers.append((f"dense{i}", Dense(sizes[i], sizes[i + 1], rng=rng)))
            if i < n_hidden:
                if batchnorm:
                    bn = BatchNorm1d(sizes[i + 1], momentum=bn_momentum, eps=bn_eps)
                    self.layers.append((f"bn{i}", bn))
                self.layers.append((f"relu{i}", ReLU()))
        self.training = True

    def train(self) -> MLP:
        """Switch to training mode (batch statistics, running stats updated)."""
        self.training = True
        return self

    def eval(self) -> MLP:
        """Switch to inference mode (running statistics, nothing updated)."""
        self.training = False
        return self

    def forward(self, x: FloatArray) -> FloatArray:
        """Return the output logits (or values) for a batch."""
        for _, layer in self.layers:
            x = layer.forward(x, training=self.training)
        return x

    def backward(self, grad_out: FloatArray) -> Arrays:
        """Backpropagate ``grad_out`` and return gradients keyed like ``parameters()``."""
        for _, layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return {f"{n}.{k}": g for n, layer in self.layers for k, g in layer.grads.items()}

    def parameters(self) -> Arrays:
        """Return the trainable arrays (views into the layers, updated in place by SGD)."""
        return {f"{n}.{k}": p for n, layer in self.layers for k, p in layer.params.items()}

    def buffers(self) -> Arrays:
        """Return the batch-norm running statistics."""
        return {
            f"{n}.{k}": b
            for n, layer in self.layers
            if isinstance(layer, BatchNorm1d)
            for k, b in layer.buffers.items()
        }

    def load_buffers(self, buffers: Arrays) -> None:
        """Restore running statistics saved by ``buffers()``."""
        for n, layer in self.layers:
            if isinstance(layer, BatchNorm1d):
                for k in layer.buffers:
                    layer.buffers[k] = np.asarray(buffers[f"{n}.{k}"], dtype=np.float32).copy()


class LinearModel:
    """``x @ W + b`` with a vector ``W`` (linear and logistic regression)."""

    def __init__(self, n_features: int) -> None:
        self.params: Arrays = {
            "W": np.zeros(n_features, dtype=np.float32),
            "b": np.zeros((), dtype=np.float32),
        }
        self._x: FloatArray | None = None
        self.training = True

    def forward(self, x: FloatArray) -> FloatArray:
        """Return the scores ``x @ W + b`` with shape (n,)."""
        self._x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, grad_out: FloatArray) -> Arrays:
        """Return gradients of W and b given the gradient of the scores."""
        assert self._x is not None, "forward must run before backward"
        return {"W": self._x.T @ grad_out, "b": np.asarray(grad_out.sum())}

    def parameters(self) -> Arrays:
        """Return the trainable arrays."""
        return self.params


def softmax_cross_entropy(logits: FloatArray, y: NumberArray) -> tuple[float, FloatArray]:
    """Return mean cross-entropy and its gradient wrt logits, via a shifted log-sum-exp."""
    z = logits.astype(np.float32)
    shifted = z - z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_probs = shifted - log_norm
    n = z.shape[0]
    loss = -float(log_probs[np.arange(n), y].mean())
    grad = np.exp(log_probs)
    grad[np.arange(n), y] -= 1.0
    return loss, grad / np.float32(n)


def sigmoid_bce(logits: FloatArray, y: NumberArray) -> tuple[float, FloatArray]:
    """Return mean binary cross-entropy on logits, ``max(z,0) - z*y + log1p(exp(-|z|))``."""
    z = logits.astype(np.float32)
    t = y.astype(np.float32)
    loss = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
    p = np.where(
        z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z)))
    )
    return float(loss.mean()), ((p - t) / np.float32(z.shape[0])).astype(np.float32)


def mse(pred: FloatArray, y: NumberArray) -> tuple[float, FloatArray]:
    """Return mean squared error and its gradient wrt the predictions."""
    diff = pred.astype(np.float32) - y.astype(np.float32)
    return float(np.mean(diff * diff)), (2.0 * diff / np.float32(diff.shape[0])).astype(np.float32)
