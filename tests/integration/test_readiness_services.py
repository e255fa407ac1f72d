"""/ready of the models, registry, training and monitoring services: ready only when they work."""

from __future__ import annotations

import pytest
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from fastapi.testclient import TestClient

from services.models import config
from services.models.main import create_app
from tests.utils.models import make_models_env
from tests.utils.registry import REGISTRY_DB
from tests.utils.training import JOBS_URL, job_payload, make_training_env

PROBLEM = "application/problem+json"


@pytest.mark.models
def test_models_is_ready_with_its_tables_and_says_which_checks_passed():
    env = make_models_env()
    response = env.client.get("/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": {"status": "ok"}}


@pytest.mark.models
def test_models_pointed_at_a_database_without_its_tables_is_not_ready(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # relative default paths resolve here, never in the checkout
    monkeypatch.setenv("SYNAPSE_MODELS_DATABASE_URL", f"sqlite+pysqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("SYNAPSE_MODELS_CREATE_SCHEMA", "false")
    response = TestClient(create_app(config.Settings())).get("/ready")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["failing"] == ["database"]
    assert "model_metadata" in response.json()["checks"]["database"]["detail"]


@pytest.mark.registry
@REGISTRY_DB
def test_registry_with_an_unapplied_migration_is_not_ready(registry_django_client):
    assert registry_django_client.get("/ready").status_code == 200
    recorder = MigrationRecorder(connections["models_db"])
    recorder.migration_qs.filter(app="registry", name="0001_initial").delete()
    response = registry_django_client.get("/ready")
    assert response.status_code == 503
    assert response.json()["failing"] == ["migrations"]
    assert "registry.0001_initial" in response.json()["checks"]["migrations"]["detail"]


@pytest.mark.training
def test_job_sent_while_no_worker_answers_is_refused_and_not_stored(tmp_path):
    env = make_training_env(
        tmp_path, settings={"task_always_eager": False, "broker_url": "memory://"}
    )
    env.app.state.queue.timeout = 0.05
    response = env.client.post(JOBS_URL, json=job_payload("churn"))
    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"
    assert "worker" in response.json()["detail"]
    assert env.client.get(JOBS_URL).json()["total"] == 0
    assert env.client.get("/ready").json()["failing"] == ["queue"]


@pytest.mark.monitoring
def test_monitoring_pointed_at_a_database_without_its_tables_is_not_ready(tmp_path):
    from services.monitoring.config import Settings as MonitoringSettings
    from services.monitoring.main import create_app as create_monitoring

    url = f"sqlite+pysqlite:///{tmp_path / 'empty.db'}"
    settings = MonitoringSettings(database_url=url, create_schema=False, consume=False)
    response = TestClient(create_monitoring(settings)).get("/ready")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
    assert "missing tables" in response.json()["checks"]["database"]["detail"]


@pytest.mark.monitoring
def test_monitoring_with_its_tables_is_ready(tmp_path):
    from services.monitoring.config import Settings as MonitoringSettings
    from services.monitoring.main import create_app as create_monitoring

    url = f"sqlite+pysqlite:///{tmp_path / 'metrics.db'}"
    settings = MonitoringSettings(database_url=url, consume=False)
    response = TestClient(create_monitoring(settings)).get("/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": {"status": "ok"}}
