"""Request and response bodies of the inference API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class DeployRequest(BaseModel):
    """Body of POST /api/v1/deployments/{name}: the registry version to serve."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)


class PredictRequest(BaseModel):
    """Body of POST /api/v1/models/{name}/predict: rows of feature name to value."""

    model_config = ConfigDict(extra="forbid")

    instances: list[dict[str, Any]] = Field(min_length=1)


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
