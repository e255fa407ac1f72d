"""The smallest inputs the training pipeline accepts: one sample, a batch-norm batch of two."""

from __future__ import annotations

import numpy as np
import pytest

from shared.errors import ValidationError
from shared.ml.data import BatchIterator
from shared.ml.layers import BatchNorm1d

pytestmark = pytest.mark.training


def test_a_dataset_of_one_sample_is_one_batch_of_that_sample():
    batches = list(BatchIterator(1, 4, rng=np.random.default_rng(0)))
    assert [list(batch) for batch in batches] == [[0]]


def test_batch_norm_trains_on_a_batch_of_two_and_refuses_a_batch_of_one():
    batch = np.array([[1.0, -2.0], [3.0, 2.0]], dtype=np.float32)
    out = BatchNorm1d(2).forward(batch, training=True)
    np.testing.assert_allclose(out.mean(axis=0), [0.0, 0.0], atol=1e-6)
    with pytest.raises(ValidationError):
        BatchNorm1d(2).forward(batch[:1], training=True)
