"""Models service settings come from SYNAPSE_MODELS_* variables, with safe local defaults."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.models import config
from services.models.main import create_app
from tests.utils.models import MODELS_URL, model_payload

pytestmark = pytest.mark.models


@pytest.fixture
def fresh_settings():
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


def test_database_url_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("SYNAPSE_MODELS_DATABASE_URL", "sqlite+pysqlite:////tmp/elsewhere.db")
    assert config.Settings().database_url == "sqlite+pysqlite:////tmp/elsewhere.db"


def test_default_database_is_a_sqlite_file_under_var(monkeypatch):
    monkeypatch.delenv("SYNAPSE_MODELS_DATABASE_URL", raising=False)
    assert config.Settings().database_url == "sqlite+pysqlite:///var/models.sqlite3"


def test_app_built_without_settings_uses_the_environment_database(
    monkeypatch, tmp_path, fresh_settings
):
    monkeypatch.chdir(tmp_path)  # relative default paths resolve here, never in the checkout
    db_file = tmp_path / "data" / "models.db"
    monkeypatch.setenv("SYNAPSE_MODELS_DATABASE_URL", f"sqlite+pysqlite:///{db_file}")
    with TestClient(create_app()) as client:
        assert client.post(MODELS_URL, json=model_payload()).status_code == 201
    assert db_file.exists()
    with TestClient(create_app(config.Settings())) as client:
        assert client.get(MODELS_URL).json()["total"] == 1
