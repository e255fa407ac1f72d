"""Held-out: artifacts written and read back with other schemas, normalisation and payloads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shared.errors import UnsafeArtifactError
from shared.ml.model_loader import ModelArtifact, load_model, save_model
from tests.utils.ml import fake_fsync  # noqa: F401

pytestmark = [pytest.mark.inference, pytest.mark.usefixtures("fake_fsync")]


def _linear(schema: list[str]) -> ModelArtifact:
    n = len(schema)
    weights = {"W": np.arange(1, n + 1, dtype=np.float32), "b": np.float32(0.5)}
    norm = {"mean": [float(i) for i in range(n)], "std": [2.0] * n}
    return ModelArtifact("linear", weights, schema, {"normalization": norm})


def test_loaded_artifact_keeps_its_normalisation_and_predicts_the_same(tmp_path):
    artifact = _linear(["tenure", "balance"])
    save_model(artifact, tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    X = np.array([[3.0, 9.0], [-1.0, 0.5]], dtype=np.float32)
    np.testing.assert_allclose(loaded.predict(X), artifact.predict(X), rtol=1e-6)
    assert loaded.metadata["normalization"]["std"] == [2.0, 2.0]


def test_loaded_artifact_keeps_an_unsorted_training_column_order(tmp_path):
    schema = ["zeta", "alpha", "mid", "beta"]
    save_model(_linear(schema), tmp_path / "m.npz")
    assert list(load_model(tmp_path / "m.npz").input_schema) == schema


class _Marker:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.write_text, (self.path, "ran"))


def test_object_array_in_the_bias_entry_is_refused_without_running(tmp_path):
    save_model(_linear(["a", "b"]), tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz", allow_pickle=False) as npz:
        entries = {name: npz[name] for name in npz.files}
    marker = tmp_path / "ran.txt"
    evil = np.empty(2, dtype=object)
    evil[0], evil[1] = _Marker(marker), {"x": 1}
    bias = next(name for name in entries if name.endswith("b"))
    entries[bias] = evil
    np.savez(tmp_path / "evil.npz", **entries)
    with pytest.raises(UnsafeArtifactError):
        load_model(tmp_path / "evil.npz")
    assert not marker.exists()
