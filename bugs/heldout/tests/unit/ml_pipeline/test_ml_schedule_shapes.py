"""Held-out: learning-rate schedules on other sizes than the visible tests use."""

import math

import pytest

from shared.ml.schedules import WarmupCosineLR

pytestmark = pytest.mark.training


def test_cosine_decay_lands_on_its_floor_exactly_at_the_last_update():
    for warmup, total, min_lr in [(0, 7, 0.0), (3, 40, 0.02), (5, 6, 0.3)]:
        schedule = WarmupCosineLR(2.0, warmup_steps=warmup, total_steps=total, min_lr=min_lr)
        assert schedule(total - 1) == pytest.approx(min_lr)
        assert schedule(total + 3) == pytest.approx(min_lr)


def test_cosine_decay_follows_the_half_cosine_between_warmup_and_the_end():
    base, floor, warmup, total = 3.0, 0.5, 4, 25
    schedule = WarmupCosineLR(base, warmup_steps=warmup, total_steps=total, min_lr=floor)
    decay = total - warmup
    for step in range(warmup, total):
        progress = (step - warmup + 1) / decay
        want = floor + (base - floor) * 0.5 * (1 + math.cos(math.pi * progress))
        assert schedule(step) == pytest.approx(want)
