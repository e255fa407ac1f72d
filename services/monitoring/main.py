"""Monitoring service app: bus ingest, latency summaries, alerts, health, traces, /metrics."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Annotated, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from services.monitoring.alerts import PREDICTION, Announce
from services.monitoring.config import Settings, get_settings
from services.monitoring.drift import apply_report
from services.monitoring.events import Ingestor
from services.monitoring.exposition import render_metrics
from services.monitoring.histograms import Histogram, percentile
from services.monitoring.schedule import DriftSchedule
from services.monitoring.schemas import (
    MODEL_NAME_PATTERN,
    TRACE_ID_PATTERN,
    AlertList,
    AlertOut,
    Bucket,
    DriftCheck,
    DriftCheckOut,
    DriftWatchList,
    HealthReport,
    LatencySummary,
    RuleCreate,
    RuleList,
    RuleOut,
    ServiceHealth,
    SilenceCreate,
    SilenceOut,
    TraceEvent,
    TraceOut,
)
from services.monitoring.store import (
    AlertRow,
    Base,
    EventRow,
    RuleRow,
    SilenceRow,
    add_rule,
    get_rule,
)
from shared.backends import get_bus, get_discovery
from shared.clients.consul import ServiceRegistry
from shared.clients.features import FeatureDrift, FeaturesClient
from shared.db import ensure_sqlite_directory, make_engine, make_session_factory, session_scope
from shared.errors import NotFoundError, ServiceUnavailableError
from shared.events.base import EventBus
from shared.events.polling import PollingThread
from shared.events.schema import EventType
from shared.problems import problems
from shared.readiness import schema_check
from shared.services import built_services
from shared.utils.timeutils import utcnow
from shared.web import create_service_app, include_routes

Clock = Callable[[], datetime]
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
MAX_ALERTS = 500


class Monitor:
    """Use cases of the monitoring service, each in its own transaction."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: Settings,
        clock: Clock,
        discovery: Callable[[], ServiceRegistry],
    ) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.clock = clock
        self.discovery = discovery

    def create_rule(self, body: RuleCreate) -> RuleOut:
        """Add an alert rule."""
        with session_scope(self.session_factory) as session:
            row = add_rule(session, RuleRow(**body.model_dump()))
            return rule_out(row)

    def rules(self) -> RuleList:
        """Return every rule, by name."""
        with session_scope(self.session_factory) as session:
            rows = session.scalars(select(RuleRow).order_by(RuleRow.name)).all()
            return RuleList(items=[rule_out(row) for row in rows])

    def delete_rule(self, name: str) -> None:
        """Delete a rule; its alerts stay as history."""
        with session_scope(self.session_factory) as session:
            session.delete(get_rule(session, name))

    def alerts(self, status: str | None, rule: str | None) -> AlertList:
        """Return alerts, newest first, optionally by status and rule."""
        stmt = select(AlertRow).order_by(AlertRow.id.desc()).limit(MAX_ALERTS)
        if status is not None:
            stmt = stmt.where(AlertRow.status == status)
        if rule is not None:
            stmt = stmt.where(AlertRow.rule == rule)
        with session_scope(self.session_factory) as session:
            rows = session.scalars(stmt).all()
            return AlertList(
                items=[AlertOut.model_validate(row, from_attributes=True) for row in rows]
            )

    def create_silence(self, body: SilenceCreate) -> SilenceOut:
        """Mute a rule's alerts for a while."""
        starts_at = body.starts_at or self.clock()
        with session_scope(self.session_factory) as session:
            get_rule(session, body.rule)
            row = SilenceRow(
                rule=body.rule,
                model=body.model,
                starts_at=starts_at,
                ends_at=body.ends_at,
                comment=body.comment,
            )
            session.add(row)
            session.flush()
            return SilenceOut.model_validate(row, from_attributes=True)

    def check_drift(
        self, body: DriftCheck, features: FeatureDrift | None, announce: Announce
    ) -> DriftCheckOut:
        """Ask the feature store for a view's drift and raise or resolve its group alerts."""
        if features is None:
            raise ServiceUnavailableError("the feature store is not configured for drift checks")
        reference = {k: v.isoformat() for k, v in body.reference.model_dump().items()}
        current = {k: v.isoformat() for k, v in body.current.model_dump().items()}
        report = features.drift(body.feature_view, reference, current)
        with session_scope(self.session_factory) as session:
            changed = apply_report(session, body.feature_view, report, self.clock(), announce)
            alerts = [AlertOut.model_validate(row, from_attributes=True) for row in changed]
        return DriftCheckOut(
            feature_view=body.feature_view, features=report["features"], alerts=alerts
        )

    def latency(self, model: str, window_seconds: int) -> LatencySummary:
        """Return the latency histogram, percentiles and errors of ``model``'s predictions."""
        now = self.clock()
        stmt = select(EventRow.latency_ms, EventRow.status).where(
            EventRow.type == PREDICTION,
            EventRow.model == model,
            EventRow.occurred_at > now - timedelta(seconds=window_seconds),
            EventRow.occurred_at <= now,
        )
        with session_scope(self.session_factory) as session:
            rows = session.execute(stmt).all()
        if not rows:
            raise NotFoundError(f"no predictions of {model!r} in the last {window_seconds} s")
        histogram = Histogram(tuple(self.settings.latency_buckets))
        latencies = [float(latency) for latency, _ in rows if latency is not None]
        for latency in latencies:
            histogram.observe(latency)
        return LatencySummary(
            model=model,
            window_seconds=window_seconds,
            count=len(rows),
            errors=sum(1 for _, status in rows if status is not None and status >= 400),
            p50=percentile(latencies, 50),
            p95=percentile(latencies, 95),
            p99=percentile(latencies, 99),
            buckets=[Bucket(le=le, count=count) for le, count in histogram.cumulative()],
        )

    def trace(self, trace_id: str) -> TraceOut:
        """Return the events filed under ``trace_id``, oldest first."""
        stmt = (
            select(EventRow)
            .where(EventRow.trace_id == trace_id)
            .order_by(EventRow.occurred_at, EventRow.id)
        )
        with session_scope(self.session_factory) as session:
            rows = session.scalars(stmt).all()
            events = [row_event(row) for row in rows]
        if not events:
            raise NotFoundError(f"no events recorded under trace {trace_id!r}")
        return TraceOut(trace_id=trace_id, events=events)

    def services(self) -> HealthReport:
        """Return each built service's passing instances as discovery reports them."""
        registry = self.discovery()
        services = []
        for spec in built_services():
            instances = len(registry.healthy_instances(spec.name))
            status: Literal["up", "down"] = "up" if instances else "down"
            services.append(ServiceHealth(service=spec.name, status=status, instances=instances))
        overall: Literal["ok", "degraded"] = (
            "ok" if all(s.status == "up" for s in services) else "degraded"
        )
        return HealthReport(status=overall, services=services)

    def metrics(self) -> str:
        """Return the Prometheus text exposition of the ingested predictions."""
        with session_scope(self.session_factory) as session:
            return render_metrics(session, self.settings)

    def health(self) -> dict:
        """Report whether the database answers."""
        try:
            with session_scope(self.session_factory) as session:
                session.execute(select(RuleRow.name).limit(1))
        except SQLAlchemyError:
            return {"healthy": False, "database": "unavailable"}
        return {"database": "ok"}


def rule_out(row: RuleRow) -> RuleOut:
    """Return the API view of a rule."""
    return RuleOut.model_validate(row, from_attributes=True)


def row_event(row: EventRow) -> TraceEvent:
    """Return the API view of a stored event."""
    return TraceEvent.model_validate(row, from_attributes=True)


def _nothing() -> None:
    """Close nothing (the drift schedule holds no consumer)."""


def build_session_factory(settings: Settings) -> sessionmaker[Session]:
    """Create the engine and session factory for metrics_db."""
    ensure_sqlite_directory(settings.database_url)
    engine = make_engine(settings.database_url)
    return make_session_factory(engine, Base.metadata if settings.create_schema else None)


def get_monitor(request: Request) -> Monitor:
    """Return the monitor the app was built with."""
    return request.app.state.monitor


def get_ingestor(request: Request) -> Ingestor:
    """Return the app's bus ingestor."""
    return request.app.state.ingestor


MonitorDep = Annotated[Monitor, Depends(get_monitor)]
IngestorDep = Annotated[Ingestor, Depends(get_ingestor)]
ModelParam = Annotated[str, Path(max_length=128, pattern=MODEL_NAME_PATTERN)]
RuleParam = Annotated[str, Path(max_length=64, pattern=MODEL_NAME_PATTERN)]
router = APIRouter(prefix="/api/v1", tags=["monitoring"])
ops = APIRouter(tags=["ops"])


@router.post("/rules", status_code=201, response_model=RuleOut, responses=problems(409))
def create_rule(body: RuleCreate, monitor: MonitorDep) -> RuleOut:
    """Add an alert rule."""
    return monitor.create_rule(body)


@router.get("/rules", response_model=RuleList)
def list_rules(monitor: MonitorDep) -> RuleList:
    """List every alert rule."""
    return monitor.rules()


@router.delete("/rules/{name}", status_code=204, response_class=Response, responses=problems(404))
def delete_rule(name: RuleParam, monitor: MonitorDep) -> Response:
    """Delete an alert rule."""
    monitor.delete_rule(name)
    return Response(status_code=204)


@router.get("/alerts", response_model=AlertList)
def list_alerts(
    monitor: MonitorDep,
    status: Annotated[str | None, Query(pattern="^(firing|resolved)$")] = None,
    rule: Annotated[str | None, Query(max_length=64, pattern=MODEL_NAME_PATTERN)] = None,
) -> AlertList:
    """List alerts, newest first."""
    return monitor.alerts(status, rule)


@router.post("/alerts/evaluate", response_model=AlertList, responses=problems(503))
def evaluate_alerts(monitor: MonitorDep, ingestor: IngestorDep) -> AlertList:
    """Ingest what the bus holds, then evaluate every rule now."""
    try:
        ingestor.drain()
        changed = ingestor.evaluate()
    except SQLAlchemyError as exc:
        raise ServiceUnavailableError("metrics_db is unavailable; nothing was lost") from exc
    return AlertList(items=[AlertOut.model_validate(row, from_attributes=True) for row in changed])


@router.post(
    "/drift/checks", response_model=DriftCheckOut, responses=problems(404, 422, 502, 503, 504)
)
def check_drift(
    body: DriftCheck, monitor: MonitorDep, ingestor: IngestorDep, request: Request
) -> DriftCheckOut:
    """Compare a view's serving window with its training window; one alert per drifted group."""
    announcements: list[tuple[EventType, dict]] = []
    result = monitor.check_drift(
        body, request.app.state.features, lambda kind, data: announcements.append((kind, data))
    )
    for kind, data in announcements:
        ingestor.announce(kind, data)
    return result


@router.get("/drift/watches", response_model=DriftWatchList)
def drift_watches(request: Request) -> DriftWatchList:
    """List the scheduled drift watches and how their last checks went."""
    schedule: DriftSchedule = request.app.state.drift_schedule
    return DriftWatchList(interval_seconds=schedule.interval, items=schedule.states())


@router.post("/silences", status_code=201, response_model=SilenceOut, responses=problems(404))
def create_silence(body: SilenceCreate, monitor: MonitorDep) -> SilenceOut:
    """Mute a rule's alerts for a while."""
    return monitor.create_silence(body)


@router.get("/models/{name}/latency", response_model=LatencySummary, responses=problems(404))
def latency(
    name: ModelParam,
    monitor: MonitorDep,
    window_seconds: Annotated[int, Query(ge=1, le=86_400)] = 3600,
) -> LatencySummary:
    """Return a model's prediction latency histogram, percentiles and errors."""
    return monitor.latency(name, window_seconds)


@router.get("/traces/{trace_id}", response_model=TraceOut, responses=problems(404))
def trace(
    trace_id: Annotated[str, Path(pattern=TRACE_ID_PATTERN)], monitor: MonitorDep
) -> TraceOut:
    """Return what monitoring received under one correlation ID."""
    return monitor.trace(trace_id)


@router.get("/services", response_model=HealthReport)
def services(monitor: MonitorDep) -> HealthReport:
    """Report each built service's state as discovery sees it."""
    return monitor.services()


@ops.get("/metrics", response_class=Response)
def metrics(monitor: MonitorDep) -> Response:
    """Expose the ingested predictions in the Prometheus text format."""
    return Response(monitor.metrics(), media_type=PROMETHEUS_TEXT)


def create_app(
    settings: Settings | None = None,
    *,
    session_factory: sessionmaker[Session] | None = None,
    bus: Callable[[], EventBus] = get_bus,
    clock: Clock = utcnow,
    discovery: Callable[[], ServiceRegistry] = get_discovery,
    features: FeatureDrift | None = None,
) -> FastAPI:
    """Build the monitoring app; it consumes the bus in the background when configured to."""
    settings = settings or get_settings()
    if features is None and settings.features_url:
        features = FeaturesClient.from_url(settings.features_url)
    session_factory = session_factory or build_session_factory(settings)
    monitor = Monitor(session_factory, settings, clock, discovery)
    ingestor = Ingestor(
        session_factory,
        bus,
        clock,
        group=settings.events_group,
        batch_size=settings.batch_size,
    )
    schedule = DriftSchedule(
        settings.drift_watches,
        lambda body, announce: monitor.check_drift(body, features, announce),
        ingestor.announce,
        clock,
        settings.drift_check_interval_s,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        threads = []
        if settings.consume:
            threads.append(
                PollingThread(
                    "monitoring-ingest", ingestor.poll_once, ingestor.close, settings.poll_interval
                )
            )
        if settings.drift_check_interval_s > 0 and settings.drift_watches:
            interval = settings.drift_check_interval_s
            threads.append(PollingThread("monitoring-drift", schedule.poll, _nothing, interval))
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            for thread in threads:
                await anyio.to_thread.run_sync(thread.stop)

    app = create_service_app(
        "monitoring",
        health=monitor.health,
        lifespan=lifespan,
        ready={"database": schema_check(session_factory, Base.metadata)},
    )
    app.state.settings = settings
    app.state.monitor = monitor
    app.state.ingestor = ingestor
    app.state.features = features
    app.state.drift_schedule = schedule
    include_routes(app, router)
    include_routes(app, ops)
    return app
