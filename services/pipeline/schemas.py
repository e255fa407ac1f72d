"""Request and response bodies of the pipeline API."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.pipeline.dag import MAX_STEPS

NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
STEP_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"
DATASET_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
MODEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
MAX_PARAM_NODES = 256
MAX_PARAM_DEPTH = 6
MAX_SEED = 2**32 - 1


def check_params(value: Any, depth: int = 0, budget: list[int] | None = None) -> None:
    """Refuse parameters that are not plain, finite, bounded JSON."""
    budget = [MAX_PARAM_NODES] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError(f"params hold more than {MAX_PARAM_NODES} values")
    if depth > MAX_PARAM_DEPTH:
        raise ValueError(f"params nest deeper than {MAX_PARAM_DEPTH} levels")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("params must be finite numbers (no NaN or Infinity)")
    if isinstance(value, str) and len(value) > 1024:
        raise ValueError("params strings are at most 1024 characters")
    if isinstance(value, dict):
        for key, item in value.items():
            check_params(key, depth + 1, budget)
            check_params(item, depth + 1, budget)
    elif isinstance(value, list):
        for item in value:
            check_params(item, depth + 1, budget)


class StepIn(BaseModel):
    """One declared step."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=STEP_PATTERN)
    kind: str = Field(min_length=1, max_length=32)
    depends_on: list[str] = Field(default_factory=list, max_length=MAX_STEPS)
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("params")
    @classmethod
    def _plain_params(cls, value: dict[str, Any]) -> dict[str, Any]:
        check_params(value)
        return value


class TriggerIn(BaseModel):
    """Run the pipeline on every new version of a dataset."""

    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(pattern=DATASET_PATTERN)


class PipelineCreate(BaseModel):
    """Body of ``POST /api/v1/pipelines``: a definition; a changed one is a new version."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    trigger: TriggerIn | None = None
    steps: list[StepIn] = Field(min_length=1, max_length=MAX_STEPS)


class StepDecl(BaseModel):
    """A step as a stored definition holds it."""

    name: str
    kind: str
    depends_on: list[str]
    params: dict[str, Any]


class PipelineOut(BaseModel):
    """One pipeline version."""

    name: str
    version: int
    digest: str
    trigger: TriggerIn | None
    steps: list[StepDecl]
    order: list[str]
    created_at: datetime


class RunCreate(BaseModel):
    """Body of ``POST /api/v1/pipelines/{name}/runs``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    dataset: str = Field(pattern=DATASET_PATTERN)
    dataset_version: str = Field(pattern=VERSION_PATTERN)
    # Pin a pipeline version; the newest when left out.
    version: int | None = Field(default=None, ge=1)
    # Seed of every random choice the run makes; derived from the pipeline and data if unset.
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)


StepStatus = Literal["pending", "running", "succeeded", "failed"]
RunStatus = Literal["queued", "running", "succeeded", "failed"]


class StepOut(BaseModel):
    """A step of a run: where it stands, how often it was tried and what it produced."""

    name: str
    kind: str
    status: StepStatus
    attempts: int
    output: dict[str, Any] | None
    error: str | None


class RunOut(BaseModel):
    """A pipeline run."""

    id: str
    pipeline: str
    version: int
    status: RunStatus
    trigger: Literal["api", "event"]
    dataset: str
    dataset_version: str
    seed: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    steps: list[StepOut]


class RunPage(BaseModel):
    """Runs of a pipeline, newest first."""

    items: list[RunOut]
    total: int


class LineageEdge(BaseModel):
    """One derivation: a run turned a dataset version into a feature view or a model version."""

    run_id: str
    pipeline: str
    pipeline_version: int
    dataset: str
    dataset_version: str
    kind: Literal["feature_view", "model_version"]
    name: str
    version: int | None


class LineageOut(BaseModel):
    """Everything recorded upstream or downstream of what was asked for."""

    items: list[LineageEdge]
