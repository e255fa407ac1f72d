"""Request and response schemas of the monitoring service (pydantic v2)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

RULE_NAME_PATTERN = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"
MODEL_NAME_PATTERN = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"
TRACE_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
Metric = Literal["request_count", "error_count", "latency_p95"]


class RuleCreate(BaseModel):
    """An alert rule as a client defines it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=RULE_NAME_PATTERN)
    metric: Metric
    model: str | None = Field(default=None, max_length=128, pattern=MODEL_NAME_PATTERN)
    threshold: float = Field(gt=0, le=1e12, allow_inf_nan=False)
    window_seconds: int = Field(ge=1, le=86_400)


class RuleOut(RuleCreate):
    """An alert rule as stored."""


class RuleList(BaseModel):
    """Every alert rule."""

    items: list[RuleOut]


class AlertOut(BaseModel):
    """One alert, firing or resolved."""

    id: int
    rule: str
    model: str
    status: Literal["firing", "resolved"]
    value: float
    silenced: bool
    fired_at: datetime
    resolved_at: datetime | None


class AlertList(BaseModel):
    """Alerts, newest first."""

    items: list[AlertOut]


class SilenceCreate(BaseModel):
    """Mute the alerts of a rule (for one model, or all) raised between two instants."""

    model_config = ConfigDict(extra="forbid")

    rule: str = Field(min_length=1, max_length=64, pattern=RULE_NAME_PATTERN)
    model: str | None = Field(default=None, max_length=128, pattern=MODEL_NAME_PATTERN)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime
    comment: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _ordered(self) -> SilenceCreate:
        if self.starts_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class SilenceOut(BaseModel):
    """A silence as stored."""

    id: int
    rule: str
    model: str | None
    starts_at: datetime
    ends_at: datetime
    comment: str


class Bucket(BaseModel):
    """One cumulative histogram bucket: observations at or below ``le`` milliseconds."""

    le: str
    count: int


class LatencySummary(BaseModel):
    """Prediction latency and errors of one model over a window."""

    model: str
    window_seconds: int
    count: int
    errors: int
    p50: float | None
    p95: float | None
    p99: float | None
    buckets: list[Bucket]


class TraceEvent(BaseModel):
    """One event filed under a correlation ID."""

    event_id: str
    type: str
    source: str
    model: str | None
    version: int | None
    status: int | None
    occurred_at: datetime


class TraceOut(BaseModel):
    """Everything monitoring received under one correlation ID, oldest first."""

    trace_id: str
    events: list[TraceEvent]


class ServiceHealth(BaseModel):
    """One service's state as discovery reports it."""

    service: str
    status: Literal["up", "down"]
    instances: int


class HealthReport(BaseModel):
    """The platform's built services and whether discovery has a passing instance of each."""

    status: Literal["ok", "degraded"]
    services: list[ServiceHealth]


class Window(BaseModel):
    """A time window [start, end) of feature rows."""

    model_config = ConfigDict(extra="forbid")

    start: AwareDatetime
    end: AwareDatetime


class DriftCheck(BaseModel):
    """Compare a feature view's serving window with the window its model was trained on."""

    model_config = ConfigDict(extra="forbid")

    feature_view: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    reference: Window
    current: Window


class DriftWatch(BaseModel):
    """A drift check the schedule runs: a view's training window against its latest serving window.

    Each scheduled check compares ``reference`` with the ``current_seconds`` before the check.
    """

    model_config = ConfigDict(extra="forbid")

    feature_view: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    reference: Window
    current_seconds: int = Field(ge=1, le=90 * 86_400)


class DriftWatchState(BaseModel):
    """A watch and how its scheduled checks went."""

    feature_view: str
    current_seconds: int
    status: Literal["pending", "ok", "failed"]
    checks: int
    failures: int
    last_checked_at: datetime | None
    last_ok_at: datetime | None
    last_error: str | None


class DriftWatchList(BaseModel):
    """The scheduled drift watches (interval 0: the schedule is off)."""

    interval_seconds: float
    items: list[DriftWatchState]


class DriftCheckOut(BaseModel):
    """Per-feature PSI/KS of one check and the drift alerts it raised or resolved."""

    feature_view: str
    features: dict[str, dict[str, float | bool]]
    alerts: list[AlertOut]
