"""Request and response bodies of the training API."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

MAX_EPOCHS = 100
MAX_SAMPLES = 100_000
MAX_FEATURES = 64
MAX_OFFSET = 1e7  # float32 features keep a resolution of 1 or better up to here
MODEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
MAX_ENTITY_ROWS = 10_000
FEATURE_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"


class NumbersNotBooleans(BaseModel):
    """Keep JSON booleans and numbers apart (pydantic's lax mode reads true as 1, 0 as false)."""

    @model_validator(mode="before")
    @classmethod
    def _refuse_booleans(cls, data: Any) -> Any:
        if isinstance(data, dict):
            kinds = {name: info.annotation for name, info in cls.model_fields.items()}
            mixed = sorted(
                key
                for key, value in data.items()
                if (kinds.get(key) in (int, float) and isinstance(value, bool))
                or (kinds.get(key) is bool and not isinstance(value, bool))
            )
            if mixed:
                raise ValueError(f"booleans and numbers do not mix: {', '.join(mixed)}")
        return data


class DatasetSpec(NumbersNotBooleans):
    """A synthetic dataset, fully determined by its fields (same spec, same rows)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal[
        "classification", "blobs", "linear_separable", "regression", "linear_regression"
    ] = "classification"
    n_samples: int = Field(ge=8, le=MAX_SAMPLES)
    n_features: int = Field(ge=1, le=MAX_FEATURES)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    # Raw telemetry (prices, counters, timestamps) often sits far from zero.
    offset: float = Field(default=0.0, ge=-MAX_OFFSET, le=MAX_OFFSET)


class EntityRow(NumbersNotBooleans):
    """One training example: an entity at a moment, and the label it had then."""

    model_config = ConfigDict(extra="forbid")

    entity_key: str = Field(min_length=1, max_length=256)
    event_time: AwareDatetime
    label: float = Field(allow_inf_nan=False)


class FeatureSetSpec(BaseModel):
    """A training set drawn from the feature store as of each entity row's event time."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["classification", "regression"] = "classification"
    feature_view: str = Field(pattern=MODEL_NAME_PATTERN)
    # The view's schema version to train on; None: the newest when the job runs.
    version: int | None = Field(default=None, ge=1)
    features: list[str] = Field(min_length=1, max_length=MAX_FEATURES)
    entity_rows: list[EntityRow] = Field(min_length=8, max_length=MAX_ENTITY_ROWS)

    @model_validator(mode="after")
    def _names_are_unique_identifiers(self) -> FeatureSetSpec:
        bad = [name for name in self.features if not re.fullmatch(FEATURE_NAME_PATTERN, name)]
        if bad:
            raise ValueError(f"feature names must be identifiers: {bad}")
        if len(set(self.features)) != len(self.features):
            raise ValueError("feature names must be unique")
        return self


class Hyperparams(NumbersNotBooleans):
    """Optimisation settings of one job; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")

    architecture: Literal["linear", "logistic", "mlp"] | None = None
    lr: float = Field(default=0.1, gt=0, le=10)
    epochs: int = Field(default=3, ge=1, le=MAX_EPOCHS)
    batch_size: int = Field(default=32, ge=1, le=4096)
    grad_accum_steps: int = Field(default=1, ge=1, le=64)
    momentum: float = Field(default=0.9, ge=0.0, lt=1.0)
    schedule: Literal["constant", "step", "warmup_cosine"] = "constant"
    warmup_steps: int = Field(default=0, ge=0, le=10_000)
    mixed_precision: bool = False
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    hidden_units: int = Field(default=16, ge=1, le=1024)
    validation_fraction: float = Field(default=0.25, gt=0.0, le=0.5)


# Documents the rule architecture_of enforces: logistic learns classification kinds only,
# linear regression kinds only (mlp both); the kind defaults to classification.
ARCHITECTURE_RULE: dict[str, Any] = {
    "if": {
        "properties": {
            "dataset": {
                "properties": {"kind": {"enum": ["regression", "linear_regression"]}},
                "required": ["kind"],
            }
        },
    },
    "then": {
        "properties": {
            "hyperparams": {"properties": {"architecture": {"not": {"const": "logistic"}}}}
        }
    },
    "else": {
        "properties": {
            "hyperparams": {"properties": {"architecture": {"not": {"const": "linear"}}}}
        }
    },
}


class JobCreate(BaseModel):
    """Body of ``POST /api/v1/jobs``."""

    model_config = ConfigDict(
        extra="forbid", protected_namespaces=(), json_schema_extra={"allOf": [ARCHITECTURE_RULE]}
    )

    model_name: str = Field(pattern=MODEL_NAME_PATTERN)
    # A synthetic dataset, or a training set pulled from the feature store.
    dataset: DatasetSpec | FeatureSetSpec
    hyperparams: Hyperparams = Field(default_factory=Hyperparams)


class JobAccepted(BaseModel):
    """Answer to a job submission: the job id and its status when it was queued."""

    id: str
    status: Literal["queued", "running", "succeeded", "failed"]


class JobOut(BaseModel):
    """A training job as the API shows it."""

    model_config = ConfigDict(protected_namespaces=())

    id: str
    model_name: str
    status: Literal["queued", "running", "succeeded", "failed"]
    metrics: dict[str, float] | None
    model_version: int | None
    error: str | None
    history: list[dict] | None
    hyperparams: dict
    dataset: dict
    artifact_uri: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobList(BaseModel):
    """A page of jobs."""

    items: list[JobOut]
    total: int
