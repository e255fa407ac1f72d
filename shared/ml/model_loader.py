"""Safe model artifacts: one .npz per model with a JSON header, loaded without unpickling."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shared.errors import UnsafeArtifactError, ValidationError
from shared.ml.archive import ALLOWED_DTYPE_KINDS, decode_npz, encode_npz
from shared.ml.feature_utils import records_to_matrix
from shared.ml.files import atomic_write_bytes, resolve_inside

FORMAT_NAME = "synapsenet-model"
FORMAT_VERSION = 1
KINDS = ("logistic", "linear", "mlp")
WEIGHT_PREFIX = "w/"
NORM_KEYS = ("norm/mean", "norm/std")
MAX_ARTIFACT_BYTES = 256 * 1024 * 1024


@dataclass
class ModelArtifact:
    """A trained model, ready to save or serve.

    ``metadata["normalization"] = {"mean": [...], "std": [...]}`` (optional) standardises
    inputs before the model; MLPs describe their layers in ``metadata["architecture"]``
    (``hidden``: widths, ``batchnorm``: bool, ``bn_eps``, ``output``: "softmax" | "identity")
    and keep batch-norm running statistics as ``bn{i}.running_mean`` / ``bn{i}.running_var``
    weights next to ``bn{i}.gamma`` / ``bn{i}.beta`` and ``dense{i}.W`` / ``dense{i}.b``.
    """

    kind: str
    weights: dict[str, np.ndarray]
    input_schema: list[str]
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.weights = {name: np.asarray(value) for name, value in self.weights.items()}
        self.input_schema = list(self.input_schema)

    @property
    def n_features(self) -> int:
        """Return how many input features the model expects."""
        return len(self.input_schema)

    def validate(self) -> None:
        """Check kind, schema, weight shapes and metadata; raise ValidationError when off."""
        _validate_artifact(self)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Return predictions: class labels for classifiers, values for regressors."""
        if self.kind == "logistic":
            proba = self.predict_proba(X)[:, 1]
            threshold = float(self.metadata.get("threshold", 0.5))
            return (proba >= threshold).astype(np.int64)
        if self.kind == "linear":
            Z = self._standardise(X)
            return Z @ self.weights["W"] + self.weights["b"]
        out = _mlp_forward(self, self._standardise(X))
        if _mlp_output(self) == "softmax":
            return np.argmax(out, axis=1).astype(np.int64)
        return out[:, 0]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Return class probabilities with shape (n_samples, n_classes)."""
        if self.kind == "logistic":
            Z = self._standardise(X)
            p = _sigmoid(Z @ self.weights["W"] + self.weights["b"])
            return np.stack([1.0 - p, p], axis=1)
        if self.kind == "mlp" and _mlp_output(self) == "softmax":
            return _mlp_forward(self, self._standardise(X))
        raise ValidationError(f"model kind {self.kind!r} does not produce probabilities")

    def predict_records(self, instances: list[dict[str, Any]]) -> np.ndarray:
        """Predict from feature dicts, ordering columns by the input schema."""
        return self.predict(records_to_matrix(instances, self.input_schema))

    def _standardise(self, X: np.ndarray) -> np.ndarray:
        X = _as_input_matrix(X, self.n_features)
        norm = self.metadata.get("normalization")
        if norm is None:
            return X
        mean = np.asarray(norm["mean"], dtype=np.float32)
        std = np.asarray(norm["std"], dtype=np.float32)
        return (X - mean) / std


def _as_input_matrix(X: Any, n_features: int) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 1:
        X = X.reshape(1, -1)
    if X.ndim != 2 or X.shape[1] != n_features:
        raise ValidationError(f"expected input of shape (n, {n_features}), got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValidationError("input contains NaN or infinite values")
    return X


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def _softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def _mlp_output(artifact: ModelArtifact) -> str:
    return artifact.metadata.get("architecture", {}).get("output", "softmax")


def _mlp_forward(artifact: ModelArtifact, X: np.ndarray) -> np.ndarray:
    """Run the MLP in inference mode: batch norm uses its running statistics only."""
    arch = artifact.metadata["architecture"]
    w = artifact.weights
    eps = np.float32(arch.get("bn_eps", 1e-5))
    h = X
    n_hidden = len(arch["hidden"])
    for i in range(n_hidden + 1):
        h = h @ w[f"dense{i}.W"] + w[f"dense{i}.b"]
        if i == n_hidden:
            break
        if arch.get("batchnorm", False):
            inv = 1.0 / np.sqrt(w[f"bn{i}.running_var"] + eps)
            h = (h - w[f"bn{i}.running_mean"]) * inv * w[f"bn{i}.gamma"] + w[f"bn{i}.beta"]
        h = np.maximum(h, 0)
    return _softmax(h) if arch.get("output", "softmax") == "softmax" else h


def expected_shapes(artifact: ModelArtifact) -> dict[str, tuple[int, ...]]:
    """Return the weight names and shapes an artifact of this kind and schema must have."""
    d = artifact.n_features
    if artifact.kind in ("logistic", "linear"):
        return {"W": (d,), "b": ()}
    arch = artifact.metadata.get("architecture")
    if not isinstance(arch, dict) or not isinstance(arch.get("hidden"), list):
        raise ValidationError("mlp metadata needs an 'architecture' with a 'hidden' list")
    widths = [d, *(int(h) for h in arch["hidden"])]
    n_out = int(arch.get("n_outputs", 1))
    shapes: dict[str, tuple[int, ...]] = {}
    for i in range(len(widths)):
        fan_out = widths[i + 1] if i + 1 < len(widths) else n_out
        shapes[f"dense{i}.W"] = (widths[i], fan_out)
        shapes[f"dense{i}.b"] = (fan_out,)
        if i + 1 < len(widths) and arch.get("batchnorm", False):
            for stat in ("gamma", "beta", "running_mean", "running_var"):
                shapes[f"bn{i}.{stat}"] = (fan_out,)
    return shapes


def _validate_artifact(artifact: ModelArtifact) -> None:
    if artifact.kind not in KINDS:
        raise ValidationError(f"unknown model kind {artifact.kind!r}; expected one of {KINDS}")
    schema = artifact.input_schema
    if not schema or not all(isinstance(f, str) and f for f in schema):
        raise ValidationError("input_schema must be a non-empty list of feature names")
    if len(set(schema)) != len(schema):
        raise ValidationError("input_schema has duplicate feature names")
    try:
        json.dumps(artifact.metadata, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"metadata is not JSON-serialisable: {exc}") from exc
    _validate_normalization(artifact.metadata.get("normalization"), len(schema))
    expected = expected_shapes(artifact)
    if set(artifact.weights) != set(expected):
        raise ValidationError(
            "weights do not match the model kind",
            details={"expected": sorted(expected), "got": sorted(artifact.weights)},
        )
    for name, shape in expected.items():
        arr = artifact.weights[name]
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in ALLOWED_DTYPE_KINDS:
            raise ValidationError(f"weight {name!r} must be a numeric numpy array")
        if arr.shape != shape:
            raise ValidationError(f"weight {name!r} has shape {arr.shape}, expected {shape}")


def _validate_normalization(norm: Any, n_features: int) -> None:
    if norm is None:
        return
    if not isinstance(norm, dict) or set(norm) != {"mean", "std"}:
        raise ValidationError("normalization must be {'mean': [...], 'std': [...]}")
    for key in ("mean", "std"):
        values = np.asarray(norm[key], dtype=np.float64)
        if values.shape != (n_features,) or not np.all(np.isfinite(values)):
            raise ValidationError(f"normalization {key} must hold {n_features} finite numbers")
    if np.any(np.asarray(norm["std"], dtype=np.float64) <= 0):
        raise ValidationError("normalization std must be positive")


def _encode(artifact: ModelArtifact) -> bytes:
    metadata = dict(artifact.metadata)
    norm = metadata.pop("normalization", None)
    arrays = {
        WEIGHT_PREFIX + name: np.asarray(a, order="C") for name, a in artifact.weights.items()
    }
    if norm is not None:
        arrays[NORM_KEYS[0]] = np.asarray(norm["mean"], dtype=np.float32)
        arrays[NORM_KEYS[1]] = np.asarray(norm["std"], dtype=np.float32)
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "kind": artifact.kind,
        "input_schema": list(artifact.input_schema),
        "metadata": metadata,
    }
    return encode_npz(header, arrays)


def save_model(
    artifact: ModelArtifact,
    path: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] | None = None,
) -> str:
    """Validate and atomically write the artifact as one .npz; return its sha256 hex digest."""
    artifact.validate()
    target = resolve_inside(path, root)
    data = _encode(artifact)
    atomic_write_bytes(target, data)
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Return the sha256 hex digest of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_model(
    path: str | os.PathLike[str],
    expected_sha256: str | None = None,
    *,
    root: str | os.PathLike[str] | None = None,
) -> ModelArtifact:
    """Load and verify an artifact written by ``save_model``; never unpickles anything."""
    target = resolve_inside(path, root)
    data = _read_bounded(target)
    if expected_sha256 is not None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected_sha256.lower():
            raise UnsafeArtifactError(
                "artifact checksum mismatch",
                details={"expected": expected_sha256, "actual": actual},
            )
    return decode_artifact(data)


def _read_bounded(target: Path) -> bytes:
    if not target.is_file():
        raise ValidationError(f"artifact {target.name!r} does not exist")
    if target.stat().st_size > MAX_ARTIFACT_BYTES:
        raise UnsafeArtifactError(f"artifact {target.name!r} exceeds {MAX_ARTIFACT_BYTES} bytes")
    return target.read_bytes()


def decode_artifact(data: bytes) -> ModelArtifact:
    """Parse npz bytes into a validated artifact, refusing pickles and anything unexpected."""
    header, arrays = decode_npz(data, format_name=FORMAT_NAME)
    if header.get("format_version") != FORMAT_VERSION:
        raise ValidationError(f"unsupported artifact format version {header.get('format_version')}")
    if header.get("kind") not in KINDS:
        raise ValidationError(f"unknown model kind {header.get('kind')!r}")
    for key, kind in (("input_schema", list), ("metadata", dict)):
        if not isinstance(header.get(key), kind):
            raise UnsafeArtifactError(f"artifact header field {key!r} is missing or malformed")
    metadata = dict(header["metadata"])
    if NORM_KEYS[0] in arrays or NORM_KEYS[1] in arrays:
        metadata["normalization"] = {
            "mean": arrays.pop(NORM_KEYS[0]).tolist(),
            "std": arrays.pop(NORM_KEYS[1]).tolist(),
        }
    stray = [key for key in arrays if not key.startswith(WEIGHT_PREFIX)]
    if stray:
        raise UnsafeArtifactError("artifact has unknown entries", details={"entries": stray})
    weights = {key.removeprefix(WEIGHT_PREFIX): arr for key, arr in arrays.items()}
    artifact = ModelArtifact(
        kind=header["kind"],
        weights=weights,
        input_schema=list(header["input_schema"]),
        metadata=metadata,
    )
    artifact.validate()
    return artifact


def group_arrays(
    arrays: dict[str, np.ndarray], groups: tuple[str, ...]
) -> dict[str, dict[str, np.ndarray]]:
    """Split ``group/name`` keys into one mapping per group; any other key is refused."""
    grouped: dict[str, dict[str, np.ndarray]] = {group: {} for group in groups}
    for key, arr in arrays.items():
        group, _, name = key.partition("/")
        if group not in grouped or not name:
            raise UnsafeArtifactError(f"archive has an unknown entry {key!r}")
        grouped[group][name] = arr
    return grouped
