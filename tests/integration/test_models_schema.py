"""The models service creates its own tables on its own database, and nothing else."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect

from services.models.config import Settings
from services.models.main import create_app

pytestmark = pytest.mark.models


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_models_app_creates_only_the_models_tables(tmp_path):
    url = f"sqlite+pysqlite:///{tmp_path / 'models.sqlite3'}"
    create_app(Settings(database_url=url))
    assert table_names(url) == {"model_metadata", "model_tags"}


def test_models_app_leaves_the_schema_alone_when_told_to(tmp_path):
    url = f"sqlite+pysqlite:///{tmp_path / 'models.sqlite3'}"
    create_app(Settings(database_url=url, create_schema=False))
    assert table_names(url) == set()
