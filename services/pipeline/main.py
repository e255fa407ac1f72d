"""Pipeline service app: declare pipeline DAGs, run them as Celery tasks, query lineage."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated

import anyio.to_thread
from celery import Celery
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from services.pipeline.catalog import Catalog
from services.pipeline.celery_app import make_celery_app
from services.pipeline.config import Settings, get_settings
from services.pipeline.events import DatasetTrigger
from services.pipeline.executors import Executor, StorageDatasetReader, default_executors
from services.pipeline.runs import RetryPolicy, RunEngine
from services.pipeline.schemas import (
    DATASET_PATTERN,
    MODEL_PATTERN,
    NAME_PATTERN,
    VERSION_PATTERN,
    LineageOut,
    PipelineCreate,
    PipelineOut,
    RunCreate,
    RunOut,
    RunPage,
)
from services.pipeline.store import Base, DefinitionRow
from services.pipeline.tasks import dispatch_steps
from shared.backends import get_bus
from shared.clients.features import FeaturesClient
from shared.clients.registry import RegistryClient
from shared.clients.storage import StorageClient
from shared.clients.training import TrainingClient
from shared.db import ensure_sqlite_directory, make_engine, make_session_factory, session_scope
from shared.errors import ValidationError
from shared.events.base import EventBus
from shared.events.polling import PollingThread
from shared.problems import problems
from shared.readiness import schema_check
from shared.utils.timeutils import utcnow
from shared.web import create_service_app, include_routes

Clock = Callable[[], datetime]
MAX_PAGE = 100
MAX_OFFSET = 1_000_000
PipelineName = Annotated[str, Path(pattern=NAME_PATTERN)]
RunId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9-]+$")]


class PipelineService:
    """What the routes call: definitions and reads (catalog) and runs (engine)."""

    def __init__(self, catalog: Catalog, engine: RunEngine, trigger: DatasetTrigger) -> None:
        self.catalog = catalog
        self.engine = engine
        self.trigger = trigger

    def start(self, name: str, body: RunCreate) -> RunOut:
        """Start a run of a pipeline version on a dataset version."""
        run_id, _ = self.engine.start(
            name, body.dataset, body.dataset_version, version=body.version, seed=body.seed
        )
        return self.catalog.run(run_id)

    def resume(self, run_id: str) -> RunOut:
        """Queue an unfinished run's remaining steps again."""
        self.engine.resume(run_id)
        return self.catalog.run(run_id)

    def health(self) -> dict:
        """Report whether the database answers."""
        try:
            with session_scope(self.catalog.session_factory) as session:
                session.execute(select(DefinitionRow.id).limit(1))
        except SQLAlchemyError:
            return {"healthy": False, "database": "unavailable"}
        return {"database": "ok"}


def get_service(request: Request) -> PipelineService:
    """Return the service the app was built with."""
    return request.app.state.pipelines


ServiceDep = Annotated[PipelineService, Depends(get_service)]
router = APIRouter(prefix="/api/v1", tags=["pipeline"])


@router.post(
    "/pipelines",
    status_code=201,
    response_model=PipelineOut,
    responses={200: {"description": "The definition equals the newest version"}, **problems(409)},
)
def define_pipeline(body: PipelineCreate, svc: ServiceDep) -> JSONResponse:
    """Declare a pipeline; a changed definition becomes its next version."""
    out, created = svc.catalog.define(body)
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if created else 200)


@router.get("/pipelines/{name}", response_model=PipelineOut, responses=problems(404))
def get_pipeline(name: PipelineName, svc: ServiceDep) -> PipelineOut:
    """Return the newest version of a pipeline."""
    return svc.catalog.get(name)


@router.get(
    "/pipelines/{name}/versions/{version}", response_model=PipelineOut, responses=problems(404)
)
def get_pipeline_version(
    name: PipelineName, version: Annotated[int, Path(ge=1, le=1_000_000)], svc: ServiceDep
) -> PipelineOut:
    """Return one version of a pipeline."""
    return svc.catalog.get(name, version)


@router.post(
    "/pipelines/{name}/runs", status_code=202, response_model=RunOut, responses=problems(404)
)
def start_run(name: PipelineName, body: RunCreate, svc: ServiceDep) -> RunOut:
    """Start a run; its steps execute as tasks (inline when the worker is eager)."""
    return svc.start(name, body)


@router.get("/pipelines/{name}/runs", response_model=RunPage, responses=problems(404))
def list_runs(
    name: PipelineName,
    svc: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> RunPage:
    """List a pipeline's runs, newest first."""
    return svc.catalog.runs(name, limit=limit, offset=offset)


@router.get("/runs/{run_id}", response_model=RunOut, responses=problems(404))
def get_run(run_id: RunId, svc: ServiceDep) -> RunOut:
    """Return a run and each of its steps."""
    return svc.catalog.run(run_id)


@router.post(
    "/runs/{run_id}/resume", status_code=202, response_model=RunOut, responses=problems(404, 409)
)
def resume_run(run_id: RunId, svc: ServiceDep) -> RunOut:
    """Queue an unfinished run again; steps that succeeded are not run twice."""
    return svc.resume(run_id)


@router.get("/lineage", response_model=LineageOut, responses=problems(422))
def lineage(
    svc: ServiceDep,
    dataset: Annotated[str | None, Query(pattern=DATASET_PATTERN)] = None,
    dataset_version: Annotated[str | None, Query(pattern=VERSION_PATTERN)] = None,
    model: Annotated[str | None, Query(pattern=MODEL_PATTERN)] = None,
    model_version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> LineageOut:
    """Return what a dataset (version) produced, or what a model (version) was derived from."""
    if (dataset is None) == (model is None):
        raise ValidationError("ask for exactly one of dataset or model")
    if dataset_version is not None and dataset is None:
        raise ValidationError("dataset_version needs dataset")
    if model_version is not None and model is None:
        raise ValidationError("model_version needs model")
    return svc.catalog.lineage(
        dataset=dataset, dataset_version=dataset_version, model=model, model_version=model_version
    )


def build_session_factory(settings: Settings) -> sessionmaker[Session]:
    """Create the engine and session factory for the configured database."""
    ensure_sqlite_directory(settings.database_url)
    engine = make_engine(settings.database_url)
    return make_session_factory(engine, Base.metadata if settings.create_schema else None)


def build_executors(settings: Settings) -> dict[str, Executor]:
    """Return the step executors that reach the platform's services through their clients."""
    return default_executors(
        reader=StorageDatasetReader(StorageClient.from_url(settings.storage_url)),
        features=FeaturesClient.from_url(settings.features_url),
        training=TrainingClient.from_url(settings.training_url),
        registry=RegistryClient.from_url(settings.registry_url),
    )


def create_app(
    settings: Settings | None = None,
    *,
    session_factory: sessionmaker[Session] | None = None,
    executors: Mapping[str, Executor] | None = None,
    bus: Callable[[], EventBus] = get_bus,
    clock: Clock = utcnow,
    sleeper: Callable[[float], None] = time.sleep,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    dispatch: Callable[[str, list[str]], None] | None = None,
) -> FastAPI:
    """Build the pipeline app; tests pass settings, executors, a clock, a sleeper and ids."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service: PipelineService = app.state.pipelines
        consume = app.state.settings.consume
        thread = (
            PollingThread(
                "pipeline-trigger",
                service.trigger.poll_once,
                service.trigger.close,
                app.state.settings.poll_interval,
            )
            if consume
            else None
        )
        if thread is not None:
            thread.start()
        try:
            yield
        finally:
            if thread is not None:
                await anyio.to_thread.run_sync(thread.stop)

    app = create_service_app(
        "pipeline", health=lambda: app.state.pipelines.health(), lifespan=lifespan
    )
    include_routes(app, router)
    wire(
        app,
        settings,
        session_factory or build_session_factory(settings),
        executors if executors is not None else build_executors(settings),
        bus=bus,
        clock=clock,
        sleeper=sleeper,
        new_id=new_id,
        dispatch=dispatch,
    )
    return app


def wire(
    app: FastAPI,
    settings: Settings,
    session_factory: sessionmaker[Session],
    executors: Mapping[str, Executor],
    *,
    bus: Callable[[], EventBus] = get_bus,
    clock: Clock = utcnow,
    sleeper: Callable[[float], None] = time.sleep,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    dispatch: Callable[[str, list[str]], None] | None = None,
) -> PipelineService:
    """Point an app at its database, executors, bus, clock and task dispatch (one deployment)."""
    policy = RetryPolicy(
        settings.max_attempts, settings.backoff_base, settings.backoff_max, settings.lease_seconds
    )
    engine = RunEngine(
        session_factory,
        executors,
        bus=bus,
        clock=clock,
        sleeper=sleeper,
        new_id=new_id,
        policy=policy,
    )
    celery: Celery | None = getattr(app.state, "celery", None)
    if celery is None:
        celery = make_celery_app(settings)
        app.state.celery = celery
    celery.pipeline_engine = engine
    engine.dispatch = dispatch or (lambda run_id, order: dispatch_steps(celery, run_id, order))
    trigger = DatasetTrigger(engine, bus, group=settings.events_group)
    service = PipelineService(Catalog(session_factory, clock), engine, trigger)
    app.state.settings = settings
    app.state.pipelines = service
    app.state.ready_checks["database"] = schema_check(session_factory, Base.metadata)
    return service


def create_worker_app(settings: Settings | None = None) -> Celery:
    """Return the Celery app a worker runs, with the engine built from settings."""
    settings = settings or get_settings()
    app = create_app(settings)
    celery: Celery = app.state.celery
    return celery
