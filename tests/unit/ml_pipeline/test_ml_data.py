"""Synthetic datasets, splits, standardisation and mini-batch iteration."""

from dataclasses import replace

import numpy as np
import pytest

from shared.errors import ValidationError
from shared.ml.data import BatchIterator, Standardizer, make_dataset, train_val_split
from shared.ml.trainer import TrainConfig, train

pytestmark = pytest.mark.training


def epoch_batches(n, batch_size, *, seed=0, drop_last=False, shuffle=True):
    batches = BatchIterator(
        n, batch_size, rng=np.random.default_rng(seed), drop_last=drop_last, shuffle=shuffle
    )
    return batches, list(batches)


def test_batches_cover_every_sample_exactly_once_per_epoch():
    _, batches = epoch_batches(10, 4)
    seen = np.concatenate(batches)
    assert sorted(seen.tolist()) == list(range(10))


def test_final_partial_batch_is_yielded_once():
    batches, items = epoch_batches(10, 4)
    assert [len(b) for b in items] == [4, 4, 2]
    assert len(batches) == 3


def test_trimmed_epoch_loses_only_the_leftover_rows():
    batches, items = epoch_batches(10, 4, drop_last=True)
    assert [len(b) for b in items] == [4, 4]
    assert len(batches) == 2
    assert len(set(np.concatenate(items).tolist())) == 8


def test_exact_multiple_has_no_empty_batch():
    _, items = epoch_batches(12, 4)
    assert [len(b) for b in items] == [4, 4, 4]


def test_unshuffled_batches_keep_order():
    _, items = epoch_batches(5, 2, shuffle=False)
    assert [b.tolist() for b in items] == [[0, 1], [2, 3], [4]]


def test_each_epoch_is_reshuffled_from_the_seeded_generator():
    batches = BatchIterator(20, 5, rng=np.random.default_rng(3))
    first, second = np.concatenate(list(batches)), np.concatenate(list(batches))
    assert not np.array_equal(first, second)
    again = BatchIterator(20, 5, rng=np.random.default_rng(3))
    assert np.array_equal(np.concatenate(list(again)), first)


def test_split_is_disjoint_and_sized_by_fraction():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    X_tr, y_tr, X_val, y_val = train_val_split(X, y, val_fraction=0.3, seed=1)
    assert len(X_val) == 3 and len(X_tr) == 7
    assert sorted(np.concatenate([y_tr, y_val]).tolist()) == list(range(10))
    assert np.array_equal(X_tr[:, 0] / 2, y_tr)


def test_standardizer_uses_training_statistics_only():
    X_train = np.array([[0.0], [2.0], [4.0]], dtype=np.float32)
    scaler = Standardizer.fit(X_train)
    out = scaler.transform(np.array([[100.0]], dtype=np.float32))
    assert scaler.mean.tolist() == [2.0]
    assert out[0, 0] == pytest.approx((100.0 - 2.0) / np.sqrt(8 / 3), rel=1e-6)


def test_constant_feature_keeps_unit_std():
    scaler = Standardizer.fit(np.array([[5.0, 1.0], [5.0, 3.0]], dtype=np.float32))
    assert scaler.std[0] == 1.0
    assert np.all(np.isfinite(scaler.transform(np.array([[5.0, 2.0]]))))


def test_same_seed_gives_identical_dataset():
    a, b = make_dataset("blobs", 40, 3, seed=5), make_dataset("blobs", 40, 3, seed=5)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_val, b.y_val)
    assert a.X_train.dtype == np.float32 and a.n_classes == 2


def test_regression_dataset_has_float_targets():
    ds = make_dataset("regression", 30, 2, seed=1)
    assert ds.task == "regression" and ds.y_train.dtype == np.float32
    assert len(ds.X_train) + len(ds.X_val) == 30


def test_unknown_dataset_kind_is_refused():
    with pytest.raises(ValidationError, match="unknown dataset kind"):
        make_dataset("images", 30, 2, seed=1)


def test_a_single_feature_dataset_is_built_and_none_is_refused():
    ds = make_dataset("blobs", 12, 1, seed=2)
    assert ds.X_train.shape[1] == ds.X_val.shape[1] == 1
    with pytest.raises(ValidationError, match="1 feature"):
        make_dataset("blobs", 12, 0, seed=2)


def test_logistic_regression_refuses_more_than_two_classes():
    ds = make_dataset("blobs", 30, 2, seed=3)
    three = replace(ds, y_train=np.arange(len(ds.y_train)) % 3, n_classes=3)
    assert three.task == "classification"
    with pytest.raises(ValidationError, match="logistic"):
        train(TrainConfig(model="logistic"), three, seed=1)
