"""Services that keep their tables in one logical database reach it as one client would."""

from __future__ import annotations

import pytest
from django.db.utils import ConnectionHandler

from services.django_project.databases import database_settings, env_var_for
from services.models import config as models_config
from shared.db import make_engine

pytestmark = pytest.mark.registry

# A deployment hands models_db to each of its services as the same URL (docker-compose.yml).
MODELS_DB_URL = "postgresql://synapse:Zq+4tR%2Fw8e@postgres-models:5432/models_db?sslmode=require"
PARAMS = ("host", "port", "dbname", "user", "password", "sslmode")


def test_registry_and_models_service_open_the_same_models_db_connection(monkeypatch, tmp_path):
    environ = {env_var_for("models_db"): MODELS_DB_URL}
    monkeypatch.setenv("SYNAPSE_MODELS_DATABASE_URL", MODELS_DB_URL)
    engine = make_engine(models_config.Settings().database_url)
    _, models_params = engine.dialect.create_connect_args(engine.url)

    registry_entry = database_settings(environ, tmp_path)["models_db"]
    registry = ConnectionHandler({"default": registry_entry})["default"]
    registry_params = registry.get_connection_params()

    assert {key: str(registry_params[key]) for key in PARAMS} == {
        key: str(models_params[key]) for key in PARAMS
    }
