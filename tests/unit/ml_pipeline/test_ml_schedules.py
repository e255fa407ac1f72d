"""Learning-rate schedules at their boundaries: step 0, end of warm-up, final step."""

import itertools

import pytest

from shared.errors import ValidationError
from shared.ml.schedules import ConstantLR, StepDecayLR, WarmupCosineLR, make_schedule

pytestmark = pytest.mark.training


def test_constant_schedule_never_changes():
    schedule = ConstantLR(0.3)
    assert {schedule(s) for s in range(50)} == {0.3}


def test_step_decay_changes_exactly_at_step_size():
    schedule = StepDecayLR(1.0, step_size=3, gamma=0.5)
    assert [schedule(s) for s in range(7)] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]


def test_warmup_starts_at_a_fraction_of_base_lr():
    schedule = WarmupCosineLR(1.0, warmup_steps=4, total_steps=10)
    assert schedule(0) == pytest.approx(0.25)


def test_warmup_reaches_base_lr_at_last_warmup_step():
    schedule = WarmupCosineLR(0.8, warmup_steps=4, total_steps=10)
    assert [schedule(s) for s in range(4)] == pytest.approx([0.2, 0.4, 0.6, 0.8])


def test_learning_rate_lands_on_its_floor_at_the_last_update():
    schedule = WarmupCosineLR(1.0, warmup_steps=2, total_steps=10, min_lr=0.1)
    assert schedule(9) == pytest.approx(0.1)
    assert schedule(8) > 0.1


def test_rate_halfway_through_the_decay_is_halfway_between_base_and_min():
    schedule = WarmupCosineLR(1.0, warmup_steps=2, total_steps=10)
    assert schedule(5) == pytest.approx(0.5)


def test_decay_is_monotonic_after_warmup():
    schedule = WarmupCosineLR(1.0, warmup_steps=3, total_steps=20)
    rates = [schedule(s) for s in range(2, 20)]
    assert all(a >= b for a, b in itertools.pairwise(rates))


def test_steps_past_the_end_keep_the_final_rate():
    schedule = WarmupCosineLR(1.0, warmup_steps=0, total_steps=5, min_lr=0.05)
    assert schedule(50) == pytest.approx(0.05)


def test_negative_step_is_refused():
    with pytest.raises(ValidationError):
        ConstantLR(0.1)(-1)


def test_make_schedule_builds_by_name():
    schedule = make_schedule("warmup_cosine", base_lr=0.5, total_steps=8, warmup_steps=2)
    assert isinstance(schedule, WarmupCosineLR) and schedule(1) == pytest.approx(0.5)
    with pytest.raises(ValidationError):
        make_schedule("cyclic", base_lr=0.5, total_steps=8)
