"""Held-out: checkpoint rotation with other step numbers and retention counts."""

import numpy as np
import pytest

from shared.ml.checkpoint import CheckpointManager, TrainingState
from shared.ml.optim import SGD
from shared.ml.precision import DynamicLossScaler
from tests.utils.ml import fake_fsync  # noqa: F401

pytestmark = pytest.mark.training


def _state(step):
    rng = np.random.default_rng(step)
    weights = {"W": rng.normal(size=(3, 1)).astype(np.float32)}
    return TrainingState(
        weights=weights,
        step=step,
        optimizer=SGD(weights, lr=0.05).state_dict(),
        rng_state=rng.bit_generator.state,
        scaler=DynamicLossScaler(128.0).state_dict(),
    )


@pytest.mark.usefixtures("fake_fsync")
def test_rotation_keeps_the_newest_three_across_digit_counts(tmp_path):
    manager = CheckpointManager(tmp_path / "ck", keep_last=3)
    for step in (9, 10, 99, 100, 12345):
        manager.save(_state(step))
    assert len(manager.list()) == 3
    assert manager.load_latest().step == 12345
