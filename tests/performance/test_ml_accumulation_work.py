"""Work done per optimiser step: k micro-batches per update, one update per window."""

import numpy as np
import pytest

from shared.ml import layers, optim
from shared.ml.trainer import train
from tests.utils.ml import tiny_config, tiny_dataset

pytestmark = pytest.mark.training


@pytest.fixture
def counters(monkeypatch):
    counts = {"step": 0, "backward": 0}
    real_step, real_backward = optim.SGD.step, layers.LinearModel.backward

    def step(self, grads, **kw):
        counts["step"] += 1
        return real_step(self, grads, **kw)

    def backward(self, grad):
        counts["backward"] += 1
        return real_backward(self, grad)

    monkeypatch.setattr(optim.SGD, "step", step)
    monkeypatch.setattr(layers.LinearModel, "backward", backward)
    return counts


def test_accumulation_takes_k_micro_steps_per_optimizer_step(counters):
    ds = tiny_dataset("regression", n_samples=40)  # 32 training rows → 8 batches of 4
    train(tiny_config(model="linear", batch_size=4, accumulation_steps=4, epochs=3), ds, seed=0)
    assert counters["backward"] == 24
    assert counters["step"] == 6


def test_leftover_micro_batches_still_make_one_step_per_epoch(counters):
    ds = tiny_dataset("regression", n_samples=40)  # 8 batches of 4, k=3 → 3 + 3 + 2
    result = train(
        tiny_config(model="linear", batch_size=4, accumulation_steps=3, epochs=2), ds, seed=0
    )
    assert counters["backward"] == 16
    assert counters["step"] == 6
    assert [r["optimizer_steps"] for r in result.history] == [3, 6]


def test_without_accumulation_every_batch_steps(counters):
    ds = tiny_dataset("regression", n_samples=40)
    train(tiny_config(model="linear", batch_size=8, epochs=2), ds, seed=0)
    assert counters["backward"] == counters["step"] == 8


def test_an_update_window_allocates_once():
    acc = optim.GradientAccumulator(3)
    acc.add({"w": np.full(4, 30000.0, dtype=np.float16)})
    buffer = acc._sums["w"]
    acc.add({"w": np.full(4, 30000.0, dtype=np.float16)})
    acc.add({"w": np.full(4, 30000.0, dtype=np.float16)})
    assert acc._sums["w"] is buffer
    assert acc.mean()["w"].tolist() == [30000.0] * 4
