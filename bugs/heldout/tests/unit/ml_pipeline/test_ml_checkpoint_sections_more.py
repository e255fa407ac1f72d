"""Held-out: checkpoints of a layered model keep each section's arrays apart."""

from __future__ import annotations

import numpy as np
import pytest

from shared.ml.checkpoint import TrainingState, load_checkpoint, save_checkpoint
from shared.ml.optim import SGD
from tests.utils.ml import fake_fsync  # noqa: F401

pytestmark = [pytest.mark.training, pytest.mark.usefixtures("fake_fsync")]


def test_two_layer_checkpoint_reads_back_weights_momentum_and_buffers_separately(tmp_path):
    rng = np.random.default_rng(17)
    weights = {
        "dense0.W": rng.normal(size=(4, 5)).astype(np.float32),
        "dense0.b": rng.normal(size=5).astype(np.float32),
        "dense1.W": rng.normal(size=(5, 2)).astype(np.float32),
    }
    opt = SGD(weights, lr=0.02, momentum=0.8)
    opt.step({k: np.full_like(v, 0.5) for k, v in weights.items()})
    opt.step({k: np.full_like(v, -0.25) for k, v in weights.items()})
    buffers = {"bn0.running_var": np.linspace(0.5, 2.0, 5, dtype=np.float32)}
    state = TrainingState(
        weights=weights,
        step=11,
        optimizer=opt.state_dict(),
        rng_state=rng.bit_generator.state,
        buffers=buffers,
    )
    save_checkpoint(state, tmp_path / "epoch-11.npz")
    loaded = load_checkpoint(tmp_path / "epoch-11.npz")
    assert sorted(loaded.weights) == sorted(weights)
    for name, value in weights.items():
        np.testing.assert_array_equal(loaded.weights[name], value)
        np.testing.assert_array_equal(
            loaded.optimizer["velocity"][name], state.optimizer["velocity"][name]
        )
    assert sorted(loaded.buffers) == ["bn0.running_var"]
    np.testing.assert_array_equal(loaded.buffers["bn0.running_var"], buffers["bn0.running_var"])
