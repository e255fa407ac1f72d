"""Seeded synthetic datasets, train/validation splits, standardisation and mini-batches."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from shared.errors import ValidationError
from shared.ml.arrays import FloatArray, IndexArray, NumberArray

TASKS = {
    "blobs": "classification",
    "classification": "classification",
    "linear_separable": "classification",
    "regression": "regression",
    "linear_regression": "regression",
}


@dataclass(frozen=True)
class Dataset:
    """A train/validation split with feature names and the task it was made for."""

    X_train: FloatArray
    y_train: NumberArray
    X_val: FloatArray
    y_val: NumberArray
    feature_names: list[str]
    task: str
    n_classes: int = 0

    @property
    def n_features(self) -> int:
        """Return the number of input features."""
        return self.X_train.shape[1]


def _feature_offsets(rng: np.random.Generator, n_features: int) -> tuple[FloatArray, FloatArray]:
    # Raw features get non-trivial location and scale so standardisation matters.
    return rng.uniform(-5.0, 5.0, n_features), rng.uniform(0.5, 3.0, n_features)


def make_blobs(
    n_samples: int, n_features: int, *, seed: int, n_classes: int = 2, spread: float = 1.0
) -> tuple[FloatArray, NumberArray]:
    """Return Gaussian blobs around random class centres; labels are 0..n_classes-1."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 3.0, size=(n_classes, n_features))
    y = np.arange(n_samples) % n_classes
    rng.shuffle(y)
    X = centres[y] + rng.normal(0.0, spread, size=(n_samples, n_features))
    loc, scale = _feature_offsets(rng, n_features)
    return (X * scale + loc).astype(np.float32), y.astype(np.int64)


def make_linear_separable(
    n_samples: int, n_features: int, *, seed: int, noise: float = 0.1
) -> tuple[FloatArray, NumberArray]:
    """Return binary labels from a random hyperplane, with ``noise`` of the labels flipped."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n_samples, n_features))
    w = rng.normal(size=n_features)
    y = (Z @ w > 0).astype(np.int64)
    flip = rng.random(n_samples) < noise
    y[flip] = 1 - y[flip]
    loc, scale = _feature_offsets(rng, n_features)
    return (Z * scale + loc).astype(np.float32), y


def make_regression(
    n_samples: int, n_features: int, *, seed: int, noise: float = 0.1
) -> tuple[FloatArray, NumberArray]:
    """Return targets from a random linear function of the features plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n_samples, n_features))
    w = rng.normal(size=n_features)
    y = Z @ w + 0.5 + rng.normal(0.0, noise, size=n_samples)
    loc, scale = _feature_offsets(rng, n_features)
    return (Z * scale + loc).astype(np.float32), y.astype(np.float32)


def train_val_split(
    X: FloatArray, y: NumberArray, *, val_fraction: float = 0.2, seed: int = 0
) -> tuple[FloatArray, NumberArray, FloatArray, NumberArray]:
    """Shuffle with a seed and split off ``val_fraction`` of the rows (at least one each side)."""
    n = len(X)
    if len(y) != n:
        raise ValidationError("X and y have different lengths")
    if not 0.0 < val_fraction < 1.0 or n < 2:
        raise ValidationError("need 0 < val_fraction < 1 and at least two samples")
    n_val = min(n - 1, max(1, round(n * val_fraction)))
    order = np.random.default_rng(seed).permutation(n)
    val, train = order[:n_val], order[n_val:]
    return X[train], y[train], X[val], y[val]


def make_dataset(
    kind: str,
    n_samples: int,
    n_features: int,
    *,
    seed: int,
    val_fraction: float = 0.2,
    offset: float = 0.0,
) -> Dataset:
    """Build a named synthetic dataset (see ``TASKS``) and split it reproducibly.

    ``offset`` is added to every raw feature, as raw telemetry far from zero carries it.
    """
    if kind not in TASKS:
        raise ValidationError(f"unknown dataset kind {kind!r}; expected one of {sorted(TASKS)}")
    if n_samples < 4 or n_features < 1:
        raise ValidationError("need at least 4 samples and 1 feature")
    if kind in ("blobs", "classification"):
        X, y = make_blobs(n_samples, n_features, seed=seed)
    elif kind == "linear_separable":
        X, y = make_linear_separable(n_samples, n_features, seed=seed)
    else:
        X, y = make_regression(n_samples, n_features, seed=seed)
    if offset:
        X = (X.astype(np.float64) + offset).astype(np.float32)
    X_tr, y_tr, X_val, y_val = train_val_split(X, y, val_fraction=val_fraction, seed=seed + 1)
    task = TASKS[kind]
    return Dataset(
        X_train=X_tr,
        y_train=y_tr,
        X_val=X_val,
        y_val=y_val,
        feature_names=[f"f{i}" for i in range(n_features)],
        task=task,
        n_classes=int(y.max()) + 1 if task == "classification" else 0,
    )


@dataclass(frozen=True)
class Standardizer:
    """Per-feature mean/std fitted on training data only; constant features keep std 1."""

    mean: FloatArray
    std: FloatArray

    @classmethod
    def fit(cls, X: FloatArray) -> Standardizer:
        """Fit mean and standard deviation on ``X`` (the training split)."""
        X = np.asarray(X, dtype=np.float64)
        std = X.std(axis=0)
        std[std < 1e-12] = 1.0
        return cls(mean=X.mean(axis=0).astype(np.float32), std=std.astype(np.float32))

    def transform(self, X: FloatArray) -> FloatArray:
        """Return ``(X - mean) / std`` as float32."""
        return ((np.asarray(X, dtype=np.float32) - self.mean) / self.std).astype(np.float32)

    def to_metadata(self) -> dict[str, list[float]]:
        """Return the JSON form stored in model metadata under ``normalization``."""
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}


class BatchIterator:
    """Yield index batches covering every sample exactly once per epoch.

    Each pass (``iter(...)``) is one epoch, reshuffled from the seeded generator; the last
    batch is partial unless ``drop_last`` is set, in which case the remainder is skipped.
    """

    def __init__(
        self,
        n_samples: int,
        batch_size: int,
        *,
        rng: np.random.Generator,
        shuffle: bool = True,
        drop_last: bool = False,
    ) -> None:
        if n_samples < 1 or batch_size < 1:
            raise ValidationError("n_samples and batch_size must be positive")
        self.n_samples = n_samples
        self.batch_size = batch_size
        self.rng = rng
        self.shuffle = shuffle
        self.drop_last = drop_last

    def __len__(self) -> int:
        full, rest = divmod(self.n_samples, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self) -> Iterator[IndexArray]:
        n, size = self.n_samples, self.batch_size
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, len(self) * size, size):
            yield order[start : start + size]
