"""SQLAlchemy plumbing shared by the FastAPI services: engines, sessions, UTC timestamps.

Each service declares its own ``DeclarativeBase`` in its ``store.py``, so its metadata holds
only its own tables and it creates only those on its database.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import DateTime, MetaData, create_engine
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from shared.utils.timeutils import to_utc

# Database names of a SQLAlchemy SQLite URL that mean "in memory".
MEMORY_DATABASES = (None, "", ":memory:")
# Schema-only in-memory databases by metadata id (see create_schema); the metadata and engine
# are kept so that the id is never reused and the connection stays open.
_templates: dict[int, tuple[MetaData, sqlite3.Connection, Engine]] = {}
_templates_lock = threading.Lock()


class UTCDateTime(TypeDecorator[datetime]):
    """Store aware datetimes as UTC and read them back aware (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive values and hand the database the instant in UTC."""
        return None if value is None else to_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return the stored instant as an aware UTC datetime."""
        return None if value is None else to_utc(value, assume_utc=True)


def ensure_sqlite_directory(database_url: str) -> None:
    """Create the parent folder of a SQLite database file so local runs start cleanly."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str) -> Engine:
    """Create an engine; in-memory SQLite shares one connection so every session sees it."""
    if url.startswith("sqlite") and ":memory:" in url:
        return create_engine(url, connect_args={"check_same_thread": False}, poolclass=StaticPool)
    if url.startswith("sqlite"):
        return create_engine(url, connect_args={"check_same_thread": False})
    return create_engine(url, pool_pre_ping=True)


def make_session_factory(engine: Engine, metadata: MetaData | None = None) -> sessionmaker[Session]:
    """Return a session factory bound to the engine, creating ``metadata``'s missing tables."""
    if metadata is not None:
        create_schema(engine, metadata)
    return sessionmaker(bind=engine, expire_on_commit=False)


def create_schema(engine: Engine, metadata: MetaData) -> None:
    """Create ``metadata``'s missing tables on the engine's database.

    An empty in-memory SQLite database gets a copy of a schema-only database built once per
    process and metadata: emitting the DDL costs about ten times more than the copy, and the
    test suite creates such databases by the hundred.
    """
    if not _is_memory_sqlite(engine):
        metadata.create_all(engine)
        return
    with engine.connect() as connection:
        target = connection.connection.driver_connection
        if target is None or target.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            metadata.create_all(connection)
            connection.commit()
            return
        with _templates_lock:
            _template(metadata).backup(target)


def _is_memory_sqlite(engine: Engine) -> bool:
    return engine.url.get_backend_name() == "sqlite" and engine.url.database in MEMORY_DATABASES


def _template(metadata: MetaData) -> sqlite3.Connection:
    known = _templates.get(id(metadata))
    if known is not None and known[0] is metadata:
        return known[1]
    engine = make_engine("sqlite:///:memory:")
    metadata.create_all(engine)
    template = cast(sqlite3.Connection, engine.raw_connection().driver_connection)
    _templates[id(metadata)] = (metadata, template, engine)
    return template


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
