"""Learning-rate schedules: constant, step decay, and linear warm-up followed by cosine decay.

Convention: a schedule maps the zero-based optimiser step ``s`` (the update about to be
applied, ``s = 0 .. total_steps - 1``) to its learning rate. Warm-up reaches ``base_lr`` exactly
at ``s = warmup_steps - 1``; cosine decay reaches ``min_lr`` exactly at ``s = total_steps - 1``.
Steps past the end keep the final rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

from shared.errors import ValidationError


class Schedule(Protocol):
    """A learning rate for each zero-based optimiser step."""

    def __call__(self, step: int) -> float:
        """Return the rate of the update at ``step``."""
        ...


def _check_step(step: int) -> None:
    if step < 0:
        raise ValidationError(f"step must be >= 0, got {step}")


@dataclass(frozen=True)
class ConstantLR:
    """The same rate at every step."""

    base_lr: float

    def __call__(self, step: int) -> float:
        """Return the constant rate."""
        _check_step(step)
        return self.base_lr


@dataclass(frozen=True)
class StepDecayLR:
    """Multiply the rate by ``gamma`` every ``step_size`` steps: ``base * gamma ** (s // size)``."""

    base_lr: float
    step_size: int
    gamma: float = 0.1

    def __post_init__(self) -> None:
        if self.step_size < 1:
            raise ValidationError("step_size must be at least 1")

    def __call__(self, step: int) -> float:
        """Return the rate decayed once per completed ``step_size`` steps."""
        _check_step(step)
        return self.base_lr * self.gamma ** (step // self.step_size)


@dataclass(frozen=True)
class WarmupCosineLR:
    """Linear warm-up to ``base_lr`` over ``warmup_steps`` steps, then cosine decay to ``min_lr``.

    Steps past ``total_steps`` keep the final rate.
    """

    base_lr: float
    warmup_steps: int
    total_steps: int
    min_lr: float = 0.0

    def __post_init__(self) -> None:
        if self.total_steps < 1 or not 0 <= self.warmup_steps <= self.total_steps:
            raise ValidationError("need total_steps >= 1 and 0 <= warmup_steps <= total_steps")

    def __call__(self, step: int) -> float:
        """Return the warm-up or cosine-decayed rate at ``step``."""
        _check_step(step)
        step = min(step, self.total_steps - 1)
        if step < self.warmup_steps:
            return self.base_lr * (step + 1) / self.warmup_steps
        decay_steps = self.total_steps - self.warmup_steps
        progress = (step - self.warmup_steps + 1) / decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.min_lr + (self.base_lr - self.min_lr) * cosine


def make_schedule(name: str, *, base_lr: float, total_steps: int, **options: Any) -> Schedule:
    """Build a schedule by name: "constant", "step" or "warmup_cosine"."""
    if name == "constant":
        return ConstantLR(base_lr)
    if name == "step":
        return StepDecayLR(
            base_lr,
            int(options.get("step_size", max(1, total_steps // 3))),
            options.get("gamma", 0.1),
        )
    if name == "warmup_cosine":
        warmup = int(options.get("warmup_steps", 0))
        return WarmupCosineLR(
            base_lr, min(warmup, total_steps), total_steps, options.get("min_lr", 0.0)
        )
    raise ValidationError(f"unknown schedule {name!r}; expected constant, step or warmup_cosine")
