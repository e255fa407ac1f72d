"""A crash between writing and publishing a checkpoint: resume uses the previous one."""

import numpy as np
import pytest

from shared.ml.checkpoint import CheckpointManager
from shared.ml.trainer import train
from tests.utils.ml import fake_fsync, tiny_config, tiny_dataset  # noqa: F401

pytestmark = [pytest.mark.training, pytest.mark.usefixtures("fake_fsync")]


class PowerCut(RuntimeError):
    pass


class CrashingManager(CheckpointManager):
    """Dies after writing the temp file of save number ``crash_at`` but before publishing it."""

    def __init__(self, directory, crash_at):
        super().__init__(directory)
        self.crash_at, self.saves = crash_at, 0

    def save(self, state, **kwargs):
        self.saves += 1
        if self.saves == self.crash_at:

            def cut(_tmp):
                raise PowerCut("lost power before the rename")

            kwargs["on_written"] = cut
        return super().save(state, **kwargs)


def test_resume_after_a_crash_mid_publish_uses_the_previous_checkpoint(tmp_path):
    config = tiny_config(model="mlp", batchnorm=True, epochs=4, momentum=0.9)
    dataset = tiny_dataset()
    crashing = CrashingManager(tmp_path, crash_at=3)
    with pytest.raises(PowerCut):
        train(config, dataset, seed=5, checkpoints=crashing)
    assert [p.name for p in tmp_path.iterdir()] == [p.name for p in crashing.list()]
    assert crashing.load_latest().extra["next_epoch"] == 2
    resumed = train(config, dataset, seed=5, checkpoints=CheckpointManager(tmp_path))
    straight = train(config, dataset, seed=5)
    assert resumed.resumed_from_epoch == 1
    assert resumed.history == straight.history
    for name, weight in straight.artifact.weights.items():
        assert np.array_equal(resumed.artifact.weights[name], weight), name
