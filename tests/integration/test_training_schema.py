"""The training service creates its own job table on its own database, and nothing else."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect

from services.training.main import create_app
from shared.utils.distributed import InMemoryLockFactory
from tests.utils.training import FakeRegistry, training_settings

pytestmark = pytest.mark.training


def test_training_app_creates_only_the_job_table(tmp_path):
    url = f"sqlite+pysqlite:///{tmp_path / 'training.sqlite3'}"
    settings = training_settings(tmp_path / "artifacts", database_url=url)
    create_app(settings, registry=FakeRegistry(), lock_factory=InMemoryLockFactory())
    engine = create_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) == {"training_jobs"}
    finally:
        engine.dispose()
