"""Resuming training from per-epoch checkpoints ends exactly like an uninterrupted run."""

import numpy as np
import pytest

from shared.ml.checkpoint import CheckpointManager, load_checkpoint
from shared.ml.trainer import train
from tests.utils.ml import fake_fsync, tiny_config, tiny_dataset  # noqa: F401

pytestmark = [pytest.mark.training, pytest.mark.usefixtures("fake_fsync")]

SEED = 11


class Interrupted(RuntimeError):
    pass


def stop_at(epoch):
    """Return an on_epoch hook that crashes when ``epoch`` finishes, before its checkpoint."""

    def hook(record):
        if record["epoch"] == epoch:
            raise Interrupted(f"worker died in epoch {epoch}")

    return hook


def interrupted_then_resumed(config, dataset, directory, *, crash_epoch, **kwargs):
    manager = CheckpointManager(directory, **kwargs)
    with pytest.raises(Interrupted):
        train(config, dataset, seed=SEED, on_epoch=stop_at(crash_epoch), checkpoints=manager)
    return train(config, dataset, seed=SEED, checkpoints=manager)


def assert_same_run(resumed, straight):
    assert resumed.artifact.weights.keys() == straight.artifact.weights.keys()
    for name, weight in straight.artifact.weights.items():
        assert np.array_equal(resumed.artifact.weights[name], weight), name
    assert resumed.history == straight.history
    assert resumed.metrics == straight.metrics


@pytest.mark.parametrize("crash_epoch", [1, 2])
def test_resumed_mlp_matches_the_straight_run(tmp_path, crash_epoch):
    config = tiny_config(model="mlp", batchnorm=True, epochs=4, momentum=0.9)
    dataset = tiny_dataset()
    resumed = interrupted_then_resumed(config, dataset, tmp_path, crash_epoch=crash_epoch)
    assert resumed.resumed_from_epoch == crash_epoch - 1
    assert_same_run(resumed, train(config, dataset, seed=SEED))


def test_resume_continues_the_momentum_of_the_optimizer(tmp_path):
    config = tiny_config(model="logistic", epochs=3, momentum=0.9, lr=0.05)
    dataset = tiny_dataset()
    manager = CheckpointManager(tmp_path)
    with pytest.raises(Interrupted):
        train(config, dataset, seed=SEED, on_epoch=stop_at(1), checkpoints=manager)
    velocity = manager.load_latest().optimizer["velocity"]
    assert all(np.any(v != 0) for v in velocity.values())
    resumed = train(config, dataset, seed=SEED, checkpoints=manager)
    assert_same_run(resumed, train(config, dataset, seed=SEED))


def test_resume_continues_the_step_count_and_schedule(tmp_path):
    config = tiny_config(
        model="mlp", epochs=4, momentum=0.0, schedule="warmup_cosine", warmup_steps=3
    )
    dataset = tiny_dataset()
    resumed = interrupted_then_resumed(config, dataset, tmp_path, crash_epoch=2)
    straight = train(config, dataset, seed=SEED)
    steps = [r["optimizer_steps"] for r in resumed.history]
    assert steps == [r["optimizer_steps"] for r in straight.history]
    assert steps == sorted(set(steps))
    assert [r["lr"] for r in resumed.history] == [r["lr"] for r in straight.history]
    assert_same_run(resumed, straight)


def test_resumed_mixed_precision_run_matches_the_straight_run(tmp_path):
    config = tiny_config(model="mlp", epochs=5, mixed_precision=True, loss_scale=2.0**24)
    dataset = tiny_dataset()
    manager = CheckpointManager(tmp_path)
    with pytest.raises(Interrupted):
        train(config, dataset, seed=SEED, on_epoch=stop_at(3), checkpoints=manager)
    scaler = manager.load_latest().scaler
    assert scaler["skipped_steps"] > 0 and scaler["scale"] < 2.0**24
    resumed = train(config, dataset, seed=SEED, checkpoints=manager)
    straight = train(config, dataset, seed=SEED)
    assert resumed.history[-1]["skipped_steps"] == straight.history[-1]["skipped_steps"]
    assert_same_run(resumed, straight)


def test_resume_continues_the_shuffle_order(tmp_path):
    config = tiny_config(model="logistic", epochs=3, momentum=0.0, batch_size=8)
    dataset = tiny_dataset()
    resumed = interrupted_then_resumed(config, dataset, tmp_path, crash_epoch=2)
    assert_same_run(resumed, train(config, dataset, seed=SEED))


def test_resume_keeps_the_early_stopping_state(tmp_path):
    config = tiny_config(model="mlp", epochs=12, lr=0.5, patience=2, min_delta=0.05)
    dataset = tiny_dataset()
    straight = train(config, dataset, seed=SEED)
    assert len(straight.history) < config.epochs
    crash = len(straight.history) - 1
    resumed = interrupted_then_resumed(config, dataset, tmp_path, crash_epoch=crash)
    assert resumed.artifact.metadata["best_epoch"] == straight.artifact.metadata["best_epoch"]
    assert_same_run(resumed, straight)


def test_a_long_run_keeps_its_newest_checkpoints(tmp_path):
    config = tiny_config(model="logistic", epochs=5)
    manager = CheckpointManager(tmp_path, keep_last=2)
    result = train(config, tiny_dataset(), seed=SEED, checkpoints=manager)
    steps = [r["optimizer_steps"] for r in result.history]
    assert sorted(load_checkpoint(p).step for p in manager.list()) == steps[-2:]
    assert manager.load_latest().step == steps[-1]


def test_resuming_a_finished_run_trains_nothing_more(tmp_path):
    config = tiny_config(model="logistic", epochs=2)
    dataset = tiny_dataset()
    first = train(config, dataset, seed=SEED, checkpoints=tmp_path)
    epochs = []
    again = train(config, dataset, seed=SEED, checkpoints=tmp_path, on_epoch=epochs.append)
    assert epochs == [] and again.resumed_from_epoch == 1
    assert_same_run(again, first)


def test_resume_false_starts_over_from_the_seed(tmp_path):
    config = tiny_config(model="logistic", epochs=2)
    dataset = tiny_dataset()
    manager = CheckpointManager(tmp_path)
    with pytest.raises(Interrupted):
        train(config, dataset, seed=SEED, on_epoch=stop_at(1), checkpoints=manager)
    fresh = train(config, dataset, seed=SEED, checkpoints=manager, resume=False)
    assert fresh.resumed_from_epoch is None
    assert_same_run(fresh, train(config, dataset, seed=SEED))
