"""Request and response bodies of the inference API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# The registry's model names: 1-128 of letters, digits, '.', '_', '-', first a letter or digit.
MODEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
# Version numbers are 32-bit integers in the registry's database.
MAX_VERSION = 2**31 - 1


class DeployRequest(BaseModel):
    """Body of POST /api/v1/deployments/{name}: the registry version to serve."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=MAX_VERSION)


class PredictRequest(BaseModel):
    """Body of POST /api/v1/models/{name}/predict: rows of feature name to value."""

    model_config = ConfigDict(extra="forbid")

    # Documented as numbers only: records_to_matrix refuses anything else with a 422.
    instances: list[dict[str, Any]] = Field(
        min_length=1,
        json_schema_extra={"items": {"type": "object", "additionalProperties": {"type": "number"}}},
    )


class Prediction(BaseModel):
    """One prediction: a label and its probability, or a regression value."""

    label: int | None = None
    probability: float | None = None
    value: float | None = None


class PredictResponse(BaseModel):
    """Predictions of one deployed model version, in input order."""

    model: str
    version: int
    task: str
    predictions: list[Prediction]


class DeploymentOut(BaseModel):
    """One deployment with its serving counters."""

    name: str
    version: int
    task: str
    artifact_uri: str
    input_schema: list[str]
    loaded: bool
    requests: int
    errors: int


class CacheStats(BaseModel):
    """Counters of the model cache."""

    max_models: int
    loaded: int
    loads: int
    evictions: int


class DeploymentList(BaseModel):
    """Every deployment and the state of the model cache."""

    items: list[DeploymentOut]
    cache: CacheStats
