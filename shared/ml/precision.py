"""Float16 mixed precision: a dynamic loss scaler and an optimiser wrapper over float32 masters."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from shared.errors import ValidationError
from shared.ml.arrays import FloatArray
from shared.ml.optim import SGD, clip_grad_norm


class DynamicLossScaler:
    """Scale the loss up so small float16 gradients survive; back off when they overflow.

    After ``growth_interval`` consecutive finite steps the scale grows by ``growth_factor``;
    any overflowing step multiplies it by ``backoff_factor`` (never below ``min_scale``) and
    restarts the count.
    """

    def __init__(
        self,
        init_scale: float = 2.0**16,
        *,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        min_scale: float = 1.0,
    ) -> None:
        if init_scale <= 0 or growth_factor <= 1 or not 0 < backoff_factor < 1:
            raise ValidationError("need scale > 0, growth_factor > 1, 0 < backoff_factor < 1")
        if growth_interval < 1:
            raise ValidationError("growth_interval must be at least 1")
        self.scale = float(init_scale)
        self.growth_factor = growth_factor
        self.backoff_factor = backoff_factor
        self.growth_interval = growth_interval
        self.min_scale = min_scale
        self.good_steps = 0
        self.skipped_steps = 0

    def scale_loss_grad(self, grad: FloatArray) -> FloatArray:
        """Return the loss gradient multiplied by the scale, cast to float16 for backward."""
        return (grad.astype(np.float32) * np.float32(self.scale)).astype(np.float16)

    def unscale(self, grads: Mapping[str, FloatArray]) -> dict[str, FloatArray]:
        """Return float32 copies of the gradients divided by the scale."""
        inv = 1.0 / self.scale
        return {k: (g.astype(np.float64) * inv).astype(np.float32) for k, g in grads.items()}

    @staticmethod
    def found_overflow(grads: Mapping[str, FloatArray]) -> bool:
        """Return True when this step's gradients must be skipped."""
        return not all(np.all(np.isfinite(g)) for g in grads.values())

    def update(self, overflow: bool) -> None:
        """Adjust the scale after a step: back off on overflow, grow after a finite streak."""
        if overflow:
            self.scale = max(self.min_scale, self.scale * self.backoff_factor)
            self.good_steps = 0
            self.skipped_steps += 1
            return
        self.good_steps += 1
        if self.good_steps >= self.growth_interval:
            self.scale *= self.growth_factor
            self.good_steps = 0

    def state_dict(self) -> dict[str, float | int]:
        """Return the scaler state for checkpoints."""
        return {
            "scale": self.scale,
            "good_steps": self.good_steps,
            "skipped_steps": self.skipped_steps,
        }

    def load_state_dict(self, state: Mapping[str, float | int]) -> None:
        """Restore the state saved by ``state_dict``."""
        self.scale = float(state["scale"])
        self.good_steps = int(state["good_steps"])
        self.skipped_steps = int(state["skipped_steps"])


class MixedPrecisionOptimizer:
    """Keep float32 master weights; take scaled float16 gradients; skip steps that overflow.

    Order per step: unscale to float32 → check for inf/NaN (skip and back off) → clip by
    global norm → SGD step on the masters → refresh the float16 working copies.
    """

    def __init__(
        self, optimizer: SGD, scaler: DynamicLossScaler, *, max_grad_norm: float | None = None
    ) -> None:
        self.optimizer = optimizer
        self.scaler = scaler
        self.max_grad_norm = max_grad_norm
        self.master = optimizer.params
        for name, p in self.master.items():
            if p.dtype != np.float32:
                raise ValidationError(f"master weight {name!r} must be float32, got {p.dtype}")
        self.half: dict[str, FloatArray] = {}
        self.refresh_half()

    def refresh_half(self) -> dict[str, FloatArray]:
        """Return (and cache) float16 copies of the master weights for the forward pass."""
        self.half = {name: p.astype(np.float16) for name, p in self.master.items()}
        return self.half

    def step(self, scaled_grads: Mapping[str, FloatArray], *, lr: float | None = None) -> bool:
        """Apply one update from scaled gradients; return False when the step was skipped."""
        grads = self.scaler.unscale(scaled_grads)
        overflow = self.scaler.found_overflow(grads)
        self.scaler.update(overflow)
        if overflow:
            return False
        if self.max_grad_norm is not None:
            clip_grad_norm(grads, self.max_grad_norm)
        self.optimizer.step(grads, lr=lr)
        self.refresh_half()
        return True
