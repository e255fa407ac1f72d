"""Mixed-precision training survives extreme batches and keeps its weights exact."""

import numpy as np
import pytest

from shared.errors import ValidationError
from shared.ml.optim import SGD
from shared.ml.precision import DynamicLossScaler, MixedPrecisionOptimizer

pytestmark = pytest.mark.training


def amp(scale=1024.0, *, growth_interval=3, max_grad_norm=None, lr=0.1):
    master = {"w": np.array([1.0, 2.0], dtype=np.float32)}
    scaler = DynamicLossScaler(scale, growth_interval=growth_interval)
    return MixedPrecisionOptimizer(SGD(master, lr=lr), scaler, max_grad_norm=max_grad_norm)


def test_a_batch_too_large_for_half_precision_leaves_the_weights_untouched():
    opt = amp()
    with np.errstate(over="ignore"):
        grads = {"w": np.array([70000.0, 1.0]).astype(np.float16)}
    assert np.isinf(grads["w"][0])
    assert opt.step(grads) is False
    assert opt.master["w"].tolist() == [1.0, 2.0]


def test_a_batch_too_large_for_half_precision_is_retried_at_a_smaller_scale():
    opt = amp(1024.0)
    opt.step({"w": np.array([np.inf, 0.0], dtype=np.float16)})
    assert opt.scaler.scale == 512.0 and opt.scaler.skipped_steps == 1


def test_nan_gradients_never_reach_the_weights():
    opt = amp()
    opt.step({"w": np.array([np.nan, 1.0], dtype=np.float16)})
    opt.step({"w": np.array([512.0, 512.0], dtype=np.float16)})
    assert np.all(np.isfinite(opt.master["w"]))
    np.testing.assert_allclose(opt.master["w"], [0.9, 1.9], rtol=1e-6)


def test_scale_grows_after_growth_interval_finite_steps():
    opt = amp(8.0, growth_interval=3)
    for _ in range(3):
        assert opt.step({"w": np.zeros(2, dtype=np.float16)})
    assert opt.scaler.scale == 16.0 and opt.scaler.good_steps == 0


def test_tiny_gradients_survive_through_the_loss_scale():
    scaler = DynamicLossScaler(2.0**16)
    tiny = np.array([1e-9], dtype=np.float32)  # below float16's smallest subnormal (~6e-8)
    assert tiny.astype(np.float16)[0] == 0.0
    scaled = scaler.scale_loss_grad(tiny)
    assert scaled.dtype == np.float16 and scaled[0] > 0
    assert scaler.unscale({"g": scaled})["g"][0] == pytest.approx(1e-9, rel=1e-2)


def test_master_weights_stay_float32_and_half_copies_follow():
    opt = amp(2.0)
    opt.step({"w": np.array([2.0, 2.0], dtype=np.float16)})
    assert opt.master["w"].dtype == np.float32
    assert opt.half["w"].dtype == np.float16
    np.testing.assert_allclose(opt.half["w"], opt.master["w"], rtol=1e-3)


def test_gradients_are_unscaled_before_clipping():
    opt = amp(1024.0, max_grad_norm=1.0, lr=1.0)
    opt.step({"w": np.array([3.0 * 1024, 4.0 * 1024], dtype=np.float16)})
    np.testing.assert_allclose(opt.master["w"], [1.0 - 0.6, 2.0 - 0.8], rtol=1e-4)


def test_float16_master_weights_are_refused():
    with pytest.raises(ValidationError):
        MixedPrecisionOptimizer(
            SGD({"w": np.zeros(2, dtype=np.float16)}, lr=0.1), DynamicLossScaler()
        )


def test_scaler_state_round_trips():
    scaler = DynamicLossScaler(64.0)
    scaler.update(True)
    scaler.update(False)
    clone = DynamicLossScaler()
    clone.load_state_dict(scaler.state_dict())
    assert (clone.scale, clone.good_steps, clone.skipped_steps) == (32.0, 1, 1)
