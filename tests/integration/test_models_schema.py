"""The models service creates its own tables on its own database, and nothing else."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

from services.models.config import Settings
from services.models.main import create_app
from services.models.store import Base
from shared.db import make_engine, make_session_factory

MEMORY_URL = "sqlite+pysqlite:///:memory:"

pytestmark = pytest.mark.models


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def schema_of(engine) -> set[tuple[str, str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT type, name, sql FROM sqlite_master"))
        return {tuple(row) for row in rows}


def model_names(engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(text("SELECT name FROM model_metadata ORDER BY name")))


def add_model(engine, name: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO model_metadata (name, task, owner, features, created_at, updated_at)"
                " VALUES (:name, 'classification', 'team', '[]', '2026-01-01', '2026-01-01')"
            ),
            {"name": name},
        )


def test_models_app_creates_only_the_models_tables(tmp_path):
    url = f"sqlite+pysqlite:///{tmp_path / 'models.sqlite3'}"
    create_app(Settings(database_url=url))
    assert table_names(url) == {"model_metadata", "model_tags"}


def test_models_app_leaves_the_schema_alone_when_told_to(tmp_path):
    url = f"sqlite+pysqlite:///{tmp_path / 'models.sqlite3'}"
    create_app(Settings(database_url=url, create_schema=False))
    assert table_names(url) == set()


def test_in_memory_database_gets_the_same_tables_and_indexes_as_a_file_database(tmp_path):
    on_disk = make_engine(f"sqlite+pysqlite:///{tmp_path / 'models.sqlite3'}")
    in_memory = make_engine(MEMORY_URL)
    make_session_factory(on_disk, Base.metadata)
    make_session_factory(in_memory, Base.metadata)
    assert schema_of(in_memory) == schema_of(on_disk)
    assert {name for kind, name, _ in schema_of(in_memory) if kind == "table"} == {
        "model_metadata",
        "model_tags",
    }


def test_each_new_in_memory_database_starts_empty_and_keeps_its_own_rows():
    first, second = make_engine(MEMORY_URL), make_engine(MEMORY_URL)
    make_session_factory(first, Base.metadata)
    add_model(first, "churn")
    make_session_factory(second, Base.metadata)
    add_model(second, "fraud")
    assert model_names(first) == ["churn"]
    assert model_names(second) == ["fraud"]


def test_creating_the_schema_on_an_in_memory_database_in_use_keeps_its_rows():
    engine = make_engine(MEMORY_URL)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (body TEXT)"))
        connection.execute(text("INSERT INTO notes VALUES ('kept')"))
    make_session_factory(engine, Base.metadata)
    add_model(engine, "churn")
    with engine.connect() as connection:
        assert list(connection.scalars(text("SELECT body FROM notes"))) == ["kept"]
    assert model_names(engine) == ["churn"]
    make_session_factory(engine, Base.metadata)
    assert model_names(engine) == ["churn"]
