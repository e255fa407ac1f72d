"""Model artifacts: save/load round trips, predictions, schema handling and validation."""

import ast

import numpy as np
import pytest

from shared.errors import ValidationError
from shared.ml import archive, model_loader
from shared.ml.model_loader import ModelArtifact, file_sha256, load_model, save_model
from shared.ml.trainer import train
from tests.utils.ml import (  # noqa: F401
    ARTIFACT_FACTORIES,
    SCHEMA,
    fake_fsync,
    logistic_artifact,
    mlp_artifact,
    raw_outputs,
    sample_inputs,
    tiny_config,
    tiny_dataset,
)

pytestmark = [pytest.mark.inference, pytest.mark.usefixtures("fake_fsync")]

TRAINED = {
    "logistic": ("blobs", {"model": "logistic"}),
    "linear": ("regression", {"model": "linear", "lr": 0.05}),
    "mlp": ("blobs", {"model": "mlp", "batchnorm": True}),
    "mlp_regression": ("regression", {"model": "mlp", "lr": 0.02}),
}


@pytest.mark.parametrize("kind", sorted(ARTIFACT_FACTORIES))
def test_round_trip_preserves_predictions(kind, tmp_path):
    artifact = ARTIFACT_FACTORIES[kind]()
    save_model(artifact, tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    X = sample_inputs()
    np.testing.assert_array_equal(raw_outputs(loaded, X), raw_outputs(artifact, X))
    np.testing.assert_array_equal(loaded.predict(X), artifact.predict(X))


@pytest.mark.parametrize("case", sorted(TRAINED))
def test_trained_model_predicts_the_same_after_save_and_load(case, tmp_path):
    kind, params = TRAINED[case]
    ds = tiny_dataset(kind)
    result = train(tiny_config(**params), ds, seed=5)
    digest = save_model(result.artifact, tmp_path / "model.npz")
    loaded = load_model(tmp_path / "model.npz", expected_sha256=digest)
    np.testing.assert_array_equal(
        raw_outputs(loaded, ds.X_val), raw_outputs(result.artifact, ds.X_val)
    )


def test_round_trip_preserves_kind_schema_and_metadata(tmp_path):
    artifact = mlp_artifact()
    artifact.metadata["metrics"] = {"accuracy": 0.5}
    save_model(artifact, tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.kind == "mlp" and loaded.input_schema == SCHEMA
    assert loaded.metadata == artifact.metadata
    assert loaded.weights["bn0.running_var"].dtype == np.float32


def test_save_returns_the_file_sha256(tmp_path):
    digest = save_model(logistic_artifact(), tmp_path / "m.npz")
    assert digest == file_sha256(tmp_path / "m.npz") and len(digest) == 64


def test_identical_artifacts_have_identical_checksums(tmp_path):
    a = save_model(logistic_artifact(seed=3), tmp_path / "a.npz")
    b = save_model(logistic_artifact(seed=3), tmp_path / "b.npz")
    assert a == b


def test_save_leaves_no_temporary_files(tmp_path):
    save_model(logistic_artifact(), tmp_path / "m.npz")
    save_model(logistic_artifact(seed=1), tmp_path / "m.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_logistic_probabilities_are_two_columns_that_sum_to_one():
    proba = logistic_artifact().predict_proba(sample_inputs())
    assert proba.shape == (6, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


def test_normalisation_is_applied_before_the_model():
    artifact = ModelArtifact(
        "linear",
        {"W": np.array([1.0], np.float32), "b": np.float32(0.0)},
        ["x"],
        {"normalization": {"mean": [10.0], "std": [2.0]}},
    )
    assert artifact.predict(np.array([[14.0]])).tolist() == [2.0]


def test_predict_records_orders_columns_by_schema():
    artifact = logistic_artifact()
    X = sample_inputs(2)
    records = [dict(reversed(list(zip(SCHEMA, row.tolist(), strict=True)))) for row in X]
    np.testing.assert_array_equal(artifact.predict_records(records), artifact.predict(X))


def test_predict_records_reports_missing_and_unknown_features():
    with pytest.raises(ValidationError) as info:
        logistic_artifact().predict_records([{"age": 1, "income": 2, "colour": 3}])
    assert info.value.details == {"instance": 0, "missing": ["score"], "unknown": ["colour"]}


def test_wrong_input_width_is_a_validation_error():
    with pytest.raises(ValidationError, match="shape"):
        logistic_artifact().predict(np.zeros((2, 4)))


def test_linear_model_has_no_probabilities():
    with pytest.raises(ValidationError):
        ARTIFACT_FACTORIES["linear"]().predict_proba(sample_inputs())


def test_saving_weights_of_the_wrong_shape_is_refused(tmp_path):
    artifact = logistic_artifact()
    artifact.weights["W"] = np.zeros(4, dtype=np.float32)
    with pytest.raises(ValidationError, match="shape"):
        save_model(artifact, tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_unknown_kind_is_refused_on_save(tmp_path):
    artifact = logistic_artifact()
    artifact.kind = "forest"
    with pytest.raises(ValidationError, match="unknown model kind"):
        save_model(artifact, tmp_path / "m.npz")


def test_missing_artifact_is_a_validation_error(tmp_path):
    with pytest.raises(ValidationError, match="does not exist"):
        load_model(tmp_path / "nope.npz")


def test_save_syncs_the_file_and_its_directory(tmp_path, fake_fsync):  # noqa: F811
    save_model(logistic_artifact(), tmp_path / "m.npz")
    assert len(fake_fsync) == 2


def test_numpy_parses_array_headers_only_under_the_read_lock(tmp_path, monkeypatch):
    """numpy reads .npy headers with the AST, which CPython 3.11 cannot build in two threads."""
    held = []
    literal_eval = ast.literal_eval

    def spy(source):
        held.append(archive.NPZ_READ_LOCK.locked())
        return literal_eval(source)

    artifact = mlp_artifact()
    save_model(artifact, tmp_path / "m.npz")
    monkeypatch.setattr(ast, "literal_eval", spy)
    archive.decode_npz((tmp_path / "m.npz").read_bytes(), format_name=model_loader.FORMAT_NAME)
    assert len(held) == len(artifact.weights) + 3  # header + normalisation arrays
    assert all(held)
    assert not archive.NPZ_READ_LOCK.locked()


def scaling_mlp(running_var: float) -> ModelArtifact:
    """One hidden unit copying feature 0 through batch norm, then a linear read-out of it."""
    one = np.ones((1,), dtype=np.float32)
    weights = {
        "dense0.W": np.array([[1.0], [0.0], [0.0]], dtype=np.float32),
        "dense0.b": np.zeros(1, dtype=np.float32),
        "bn0.gamma": one,
        "bn0.beta": np.zeros(1, dtype=np.float32),
        "bn0.running_mean": np.zeros(1, dtype=np.float32),
        "bn0.running_var": np.array([running_var], dtype=np.float32),
        "dense1.W": np.array([[1.0]], dtype=np.float32),
        "dense1.b": np.zeros(1, dtype=np.float32),
    }
    arch = {"hidden": [1], "batchnorm": True, "bn_eps": 0.0, "output": "linear", "n_outputs": 1}
    return ModelArtifact("mlp", weights, list(SCHEMA), {"architecture": arch, "task": "regression"})


def test_served_batch_norm_divides_by_the_running_standard_deviation():
    X = np.array([[6.0, 0.0, 0.0], [-2.0, 0.0, 0.0]], dtype=np.float32)
    np.testing.assert_allclose(scaling_mlp(running_var=4.0).predict(X).ravel(), [3.0, 0.0])


def test_a_single_row_given_flat_is_one_prediction():
    artifact = logistic_artifact()
    row = sample_inputs(1)[0]
    assert row.ndim == 1
    np.testing.assert_array_equal(artifact.predict(row), artifact.predict(row.reshape(1, -1)))
    assert artifact.predict(row).shape == (1,)


def test_class_probabilities_stay_finite_for_very_confident_logits():
    artifact = mlp_artifact()
    artifact.weights["dense1.W"] = artifact.weights["dense1.W"] * np.float32(1e4)
    probabilities = artifact.predict_proba(sample_inputs())
    assert np.all(np.isfinite(probabilities))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
