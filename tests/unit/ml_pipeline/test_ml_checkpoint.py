"""Checkpoint save/load of full training state and keep-last-N rotation."""

import numpy as np
import pytest

from shared.errors import UnsafeArtifactError
from shared.ml.checkpoint import CheckpointManager, TrainingState, load_checkpoint, save_checkpoint
from shared.ml.optim import SGD
from shared.ml.precision import DynamicLossScaler
from tests.utils.ml import fake_fsync  # noqa: F401

pytestmark = [pytest.mark.training, pytest.mark.usefixtures("fake_fsync")]


def make_state(step=3, seed=0):
    rng = np.random.default_rng(seed)
    weights = {"W": rng.normal(size=(2, 2)).astype(np.float32), "b": np.zeros(2, np.float32)}
    opt = SGD(weights, lr=0.1, momentum=0.9)
    opt.step({"W": np.ones((2, 2)), "b": np.ones(2)})
    scaler = DynamicLossScaler(256.0)
    scaler.update(True)
    return TrainingState(
        weights=weights,
        step=step,
        optimizer=opt.state_dict(),
        rng_state=rng.bit_generator.state,
        scaler=scaler.state_dict(),
        buffers={"bn0.running_mean": np.arange(2, dtype=np.float32)},
    )


def test_checkpoint_round_trips_weights_optimizer_and_scaler(tmp_path):
    state = make_state()
    save_checkpoint(state, tmp_path / "c.npz")
    loaded = load_checkpoint(tmp_path / "c.npz")
    assert loaded.step == 3
    assert np.array_equal(loaded.weights["W"], state.weights["W"])
    assert np.array_equal(loaded.optimizer["velocity"]["W"], state.optimizer["velocity"]["W"])
    assert loaded.optimizer["steps"] == 1
    assert loaded.scaler == {"scale": 128.0, "good_steps": 0, "skipped_steps": 1}
    assert loaded.buffers["bn0.running_mean"].tolist() == [0.0, 1.0]


def test_restored_rng_continues_the_same_stream(tmp_path):
    state = make_state()
    save_checkpoint(state, tmp_path / "c.npz")
    original = np.random.default_rng()
    original.bit_generator.state = state.rng_state
    resumed = np.random.default_rng()
    resumed.bit_generator.state = load_checkpoint(tmp_path / "c.npz").rng_state
    assert np.array_equal(original.random(5), resumed.random(5))


def test_only_the_newest_checkpoints_are_kept_after_many_saves(tmp_path):
    manager = CheckpointManager(tmp_path, keep_last=2)
    for step in range(1, 13):
        manager.save(make_state(step))
    assert sorted(load_checkpoint(p).step for p in manager.list()) == [11, 12]
    assert manager.load_latest().step == 12


def test_manager_without_checkpoints_has_no_latest(tmp_path):
    assert CheckpointManager(tmp_path / "empty").load_latest() is None


def test_checkpoint_checksum_mismatch_is_refused(tmp_path):
    save_checkpoint(make_state(), tmp_path / "c.npz")
    with pytest.raises(UnsafeArtifactError, match="checksum"):
        load_checkpoint(tmp_path / "c.npz", expected_sha256="0" * 64)


def test_save_returns_the_sha256_of_the_file(tmp_path):
    digest = save_checkpoint(make_state(), tmp_path / "c.npz")
    assert load_checkpoint(tmp_path / "c.npz", expected_sha256=digest).step == 3


def test_checkpoint_save_syncs_before_publishing(tmp_path, fake_fsync):  # noqa: F811
    synced_before_publish = []
    save_checkpoint(
        make_state(),
        tmp_path / "c.npz",
        on_written=lambda tmp: synced_before_publish.append(len(fake_fsync)),
    )
    assert synced_before_publish == [1] and len(fake_fsync) == 2
