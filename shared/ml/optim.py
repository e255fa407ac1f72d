"""SGD with momentum and weight decay, gradient accumulation and global-norm clipping."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from shared.errors import ValidationError
from shared.ml.arrays import FloatArray

Arrays = dict[str, FloatArray]


class SGD:
    """Stochastic gradient descent updating float32 parameter arrays in place.

    With momentum ``m`` and weight decay ``wd``: ``g = grad + wd * p``, ``v = m * v + g``,
    ``p -= lr * v`` (the PyTorch convention); ``nesterov`` uses ``g + m * v`` instead of ``v``.
    """

    def __init__(
        self,
        params: Mapping[str, FloatArray],
        *,
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        if lr < 0 or not 0.0 <= momentum < 1.0 or weight_decay < 0:
            raise ValidationError("need lr >= 0, 0 <= momentum < 1 and weight_decay >= 0")
        self.params = params
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.nesterov = nesterov
        self.velocity: Arrays = {k: np.zeros(p.shape, dtype=np.float32) for k, p in params.items()}
        self.steps = 0

    def step(self, grads: Mapping[str, FloatArray], *, lr: float | None = None) -> None:
        """Apply one update with ``grads`` (names must match the parameters)."""
        if set(grads) != set(self.params):
            raise ValidationError("gradient names do not match the parameters")
        rate = np.float32(self.lr if lr is None else lr)
        for name, param in self.params.items():
            g: FloatArray = np.asarray(grads[name], dtype=np.float32)
            if self.weight_decay:
                g = g + np.float32(self.weight_decay) * param
            if self.momentum:
                v = self.velocity[name]
                v *= np.float32(self.momentum)
                v += g
                g = g + np.float32(self.momentum) * v if self.nesterov else v
            param -= rate * g
        self.steps += 1

    def state_dict(self) -> dict[str, object]:
        """Return the optimiser state: velocities and step count."""
        return {"velocity": {k: v.copy() for k, v in self.velocity.items()}, "steps": self.steps}

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Restore velocities and the step count saved by ``state_dict``."""
        velocity = state["velocity"]
        assert isinstance(velocity, Mapping)
        if set(velocity) != set(self.params):
            raise ValidationError("optimiser state does not match the parameters")
        self.velocity = {k: np.asarray(v, dtype=np.float32).copy() for k, v in velocity.items()}
        steps = state["steps"]
        if not isinstance(steps, int | np.integer):
            raise ValidationError("optimiser state has no integer step count")
        self.steps = int(steps)


def global_norm(grads: Mapping[str, FloatArray]) -> float:
    """Return the L2 norm over all gradients, computed in float64 so float16 cannot overflow."""
    total = sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values())
    return float(np.sqrt(total))


def clip_grad_norm(grads: Arrays, max_norm: float, *, eps: float = 1e-6) -> float:
    """Scale gradients in place so their global norm is at most ``max_norm``; return the norm."""
    if max_norm <= 0:
        raise ValidationError("max_norm must be positive")
    norm = global_norm(grads)
    if norm > max_norm:
        factor = max_norm / (norm + eps)
        for name, g in grads.items():
            grads[name] = (g.astype(np.float64) * factor).astype(g.dtype)
    return norm


class GradientAccumulator:
    """Sum micro-batch gradients and hand back their mean after ``k`` of them."""

    def __init__(self, k: int) -> None:
        if k < 1:
            raise ValidationError("accumulation steps must be at least 1")
        self.k = k
        self.count = 0
        self._sums: Arrays = {}

    @property
    def ready(self) -> bool:
        """Return True once ``k`` micro-batches have been added."""
        return self.count >= self.k

    def add(self, grads: Mapping[str, FloatArray]) -> None:
        """Add one micro-batch's gradients (any float dtype)."""
        if self._sums and set(grads) != set(self._sums):
            raise ValidationError("gradient names changed between micro-batches")
        for name, g in grads.items():
            if name not in self._sums:
                self._sums[name] = np.zeros(np.shape(g), dtype=np.float32)
            self._sums[name] += np.asarray(g, dtype=np.float32)
        self.count += 1

    def mean(self) -> Arrays:
        """Return the mean over the micro-batches added since the last reset."""
        if self.count == 0:
            raise ValidationError("no gradients accumulated")
        return {name: total / np.float32(self.count) for name, total in self._sums.items()}

    def reset(self) -> None:
        """Forget the accumulated gradients."""
        self.count = 0
        self._sums = {}
