"""Models service app: create, list, read, update and delete model metadata."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from services.models.config import Settings, get_settings
from services.models.schemas import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    PRINTABLE_PATTERN,
    InputSchema,
    ModelCreate,
    ModelFilters,
    ModelOut,
    ModelPage,
    ModelTask,
    ModelUpdate,
)
from services.models.store import Base, ModelRecord, ModelRepository
from shared.db import ensure_sqlite_directory, make_engine, make_session_factory, session_scope
from shared.problems import problems
from shared.readiness import schema_check
from shared.utils.timeutils import to_utc, utcnow
from shared.web import create_service_app, include_routes

Clock = Callable[[], datetime]
MAX_OFFSET = 1_000_000


def to_out(record: ModelRecord) -> ModelOut:
    """Return the API view of a model."""
    return ModelOut(
        id=record.id,
        name=record.name,
        description=record.description,
        task=ModelTask(record.task),
        owner=record.owner,
        tags=list(record.tags),
        input_schema=InputSchema(features=list(record.features)),
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


class ModelCatalog:
    """Use cases of the models service, each in its own transaction."""

    def __init__(self, session_factory: sessionmaker[Session], clock: Clock = utcnow) -> None:
        self.session_factory = session_factory
        self._clock = clock

    def clock(self) -> datetime:
        """Return the clock's current time converted to UTC."""
        return to_utc(self._clock())

    def create(self, data: ModelCreate) -> ModelOut:
        """Register a new model."""
        with session_scope(self.session_factory) as session:
            record = ModelRepository(session).add(data, self.clock())
        return to_out(record)

    def get(self, name: str) -> ModelOut:
        """Return one model by name."""
        with session_scope(self.session_factory) as session:
            record = ModelRepository(session).get(name)
        return to_out(record)

    def list(self, filters: ModelFilters, *, limit: int, offset: int) -> ModelPage:
        """Return one page of models matching the filters."""
        with session_scope(self.session_factory) as session:
            records, total = ModelRepository(session).list(filters, limit=limit, offset=offset)
        items = [to_out(record) for record in records]
        return ModelPage(items=items, total=total, limit=limit, offset=offset)

    def update(self, name: str, data: ModelUpdate) -> ModelOut:
        """Apply the fields the client set to one model."""
        with session_scope(self.session_factory) as session:
            record = ModelRepository(session).update(name, data.changes(), self.clock())
        return to_out(record)

    def delete(self, name: str) -> None:
        """Delete one model."""
        with session_scope(self.session_factory) as session:
            ModelRepository(session).delete(name)

    def health(self) -> dict:
        """Report whether the database answers."""
        try:
            with session_scope(self.session_factory) as session:
                ModelRepository(session).ping()
        except SQLAlchemyError:
            return {"healthy": False, "database": "unavailable"}
        return {"database": "ok"}


def build_session_factory(settings: Settings) -> sessionmaker[Session]:
    """Create the engine and session factory for the configured database."""
    ensure_sqlite_directory(settings.database_url)
    engine = make_engine(settings.database_url)
    return make_session_factory(engine, Base.metadata if settings.create_schema else None)


def get_catalog(request: Request) -> ModelCatalog:
    """Return the catalog the app was built with."""
    return request.app.state.catalog


CatalogDep = Annotated[ModelCatalog, Depends(get_catalog)]
router = APIRouter(prefix="/api/v1/models", tags=["models"])


@router.post("", status_code=201, response_model=ModelOut, responses=problems(409))
def create_model(body: ModelCreate, catalog: CatalogDep) -> ModelOut:
    """Register a new model."""
    return catalog.create(body)


@router.get("", response_model=ModelPage)
def list_models(
    catalog: CatalogDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    owner: Annotated[str | None, Query(max_length=64, pattern=PRINTABLE_PATTERN)] = None,
    task: ModelTask | None = None,
    tag: Annotated[str | None, Query(max_length=32, pattern=PRINTABLE_PATTERN)] = None,
) -> ModelPage:
    """List one page of models, optionally filtered by owner, task or tag."""
    tag = tag.strip().lower() if tag is not None else None
    filters = ModelFilters(owner=owner, task=task, tag=tag)
    return catalog.list(filters, limit=limit, offset=offset)


@router.get("/{name}", response_model=ModelOut, responses=problems(404))
def get_model(name: str, catalog: CatalogDep) -> ModelOut:
    """Return one model by name."""
    return catalog.get(name)


@router.patch("/{name}", response_model=ModelOut, responses=problems(404))
def update_model(name: str, body: ModelUpdate, catalog: CatalogDep) -> ModelOut:
    """Apply a partial update to one model."""
    return catalog.update(name, body)


@router.delete("/{name}", status_code=204, response_class=Response, responses=problems(404))
def delete_model(name: str, catalog: CatalogDep) -> Response:
    """Delete one model and its tags."""
    catalog.delete(name)
    return Response(status_code=204)


def create_app(
    settings: Settings | None = None,
    session_factory: sessionmaker[Session] | None = None,
    *,
    clock: Clock | None = None,
) -> FastAPI:
    """Build the models service app; tests pass settings, a session factory and a clock."""
    settings = settings or get_settings()
    if session_factory is None:
        session_factory = build_session_factory(settings)
    catalog = ModelCatalog(session_factory, clock or utcnow)
    ready = {"database": schema_check(session_factory, Base.metadata)}
    app = create_service_app("models", health=catalog.health, ready=ready)
    app.state.settings = settings
    app.state.catalog = catalog
    include_routes(app, router)
    return app
