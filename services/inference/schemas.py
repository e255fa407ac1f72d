"""Request and response bodies of the inference API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# The registry's model names: 1-128 of letters, digits, '.', '_', '-', first a letter or digit.
MODEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
# Version numbers are 32-bit integers in the registry's database.
MAX_VERSION = 2**31 - 1
# Request keys (a customer or session id) that pin a caller to one routed version.
MAX_KEY_LENGTH = 256
# Versions one routing table may split traffic between.
MAX_ROUTES = 16


class DeployRequest(BaseModel):
    """Body of POST /api/v1/deployments/{name}: the registry version to serve."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=MAX_VERSION)


ONE_SOURCE: list[Any] = [{"required": ["instances"]}, {"required": ["entities"]}]


class EntityLookup(BaseModel):
    """Entities whose online features are the rows to predict on."""

    model_config = ConfigDict(extra="forbid")

    feature_view: str = Field(min_length=1, max_length=128)
    keys: list[str] = Field(min_length=1, max_length=1000)


class PredictRequest(BaseModel):
    """Body of POST /api/v1/models/{name}/predict: rows of feature name to value, or entities."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": ONE_SOURCE})

    # Documented as numbers only: records_to_matrix refuses anything else with a 422.
    instances: list[dict[str, Any]] | None = Field(
        default=None,
        min_length=1,
        json_schema_extra={"items": {"type": "object", "additionalProperties": {"type": "number"}}},
    )
    # Or: predict on the online features of these entities (the feature store answers them).
    entities: EntityLookup | None = None
    # Sticky routing: requests with one key are always served by the same routed version.
    key: str | None = Field(default=None, min_length=1, max_length=MAX_KEY_LENGTH)

    @model_validator(mode="after")
    def _one_source(self) -> PredictRequest:
        if (self.instances is None) == (self.entities is None):
            raise ValueError("give either instances or entities")
        return self


class ClassPrediction(BaseModel):
    """A classifier's prediction: the label and the probability the model gives it."""

    model_config = ConfigDict(extra="forbid")

    label: int
    probability: float


class ValuePrediction(BaseModel):
    """A regressor's prediction."""

    model_config = ConfigDict(extra="forbid")

    value: float


class PredictResponse(BaseModel):
    """Predictions of the model version that served the request, in input order."""

    model: str
    version: int
    task: Literal["classification", "regression"]
    predictions: list[ClassPrediction] | list[ValuePrediction]


class RouteIn(BaseModel):
    """One routed version and its share of traffic in percent (at most two decimals)."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=MAX_VERSION)
    percent: Decimal = Field(gt=0, le=100, decimal_places=2, allow_inf_nan=False)


class RoutingRequest(BaseModel):
    """Body of PUT /api/v1/deployments/{name}/routing: the split and an optional shadow."""

    model_config = ConfigDict(extra="forbid")

    routes: list[RouteIn] = Field(min_length=1, max_length=MAX_ROUTES)
    # Gets a copy of every request; its answers are compared, never returned.
    shadow: int | None = Field(default=None, ge=1, le=MAX_VERSION)

    @model_validator(mode="after")
    def _exact_split(self) -> RoutingRequest:
        versions = [route.version for route in self.routes]
        if len(set(versions)) != len(versions):
            raise ValueError("each version may be routed once")
        total = sum((route.percent for route in self.routes), Decimal(0))
        if total != 100:
            raise ValueError(f"route percentages must add up to exactly 100, not {total}")
        if self.shadow is not None and self.shadow in versions:
            raise ValueError("the shadow version must not be a routed version")
        return self


class PromoteRequest(BaseModel):
    """Body of POST /api/v1/deployments/{name}/routing/promote: the routed version to keep."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=MAX_VERSION)


class RouteOut(BaseModel):
    """One routed version, its share in percent and in buckets of 10,000."""

    version: int
    percent: str
    buckets: int


class RoutingOut(BaseModel):
    """The routing table of one model."""

    name: str
    routes: list[RouteOut]
    shadow: int | None


class LatencyOut(BaseModel):
    """Latency histogram: counts[i] predictions took at most le[i] seconds (last: slower)."""

    le: list[float]
    counts: list[int]


class ShadowOut(BaseModel):
    """How a shadow version's answers compared with the answers returned."""

    compared: int
    agreed: int
    errors: int


class VersionStatsOut(BaseModel):
    """Counters of one version: requests, errors, latency, and its role."""

    version: int
    role: Literal["primary", "routed", "shadow"]
    requests: int
    errors: int
    latency: LatencyOut
    shadow: ShadowOut | None = None


class StatsOut(BaseModel):
    """Per-version counters of one deployed model and the replica's admission state."""

    name: str
    primary: int
    routing: RoutingOut | None
    versions: list[VersionStatsOut]
    admission: dict[str, int]


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
