"""The foundation slice on the real PostgreSQL clusters: Django migrations on the four logical
databases, the registry end to end through its API, the models service through SQLAlchemy."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from infra.tests.live.support import unique
from shared.clients.inprocess import InProcessTransport
from shared.db import make_engine
from shared.infra_settings import POSTGRES_PORTS, sqlalchemy_url


def point_django_at(entries: dict[str, dict]) -> None:
    """Swap the DATABASES entries of some aliases and drop their open connections."""
    from django.conf import settings
    from django.db import connections

    connections.close_all()
    for alias, entry in entries.items():
        settings.DATABASES[alias] = entry
        if hasattr(connections._connections, alias):
            del connections[alias]
    connections.__dict__.pop("settings", None)  # rebuilt (with defaults) on next use


@pytest.fixture(scope="module")
def django_postgres(infra_settings, django_db_blocker):
    """Run Django on the stack's PostgreSQL databases for this module, migrated."""
    from django.conf import settings
    from django.core.management import call_command

    from services.django_project.databases import parse_database_url

    saved = {alias: dict(settings.DATABASES[alias]) for alias in POSTGRES_PORTS}
    with django_db_blocker.unblock():
        point_django_at(
            {a: parse_database_url(infra_settings.database_url(a)) for a in POSTGRES_PORTS}
        )
        for alias in POSTGRES_PORTS:
            call_command("migrate", database=alias, interactive=False, verbosity=0)
        yield
        point_django_at(saved)


@pytest.mark.parametrize("alias", sorted(POSTGRES_PORTS))
def test_migrations_are_applied_to_each_logical_database(django_postgres, alias):
    from django.db import connections
    from django.db.migrations.executor import MigrationExecutor

    connection = connections[alias]
    assert connection.vendor == "postgresql"
    assert connection.settings_dict["NAME"] == alias
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []


def test_registry_tables_live_in_models_db_only(django_postgres):
    from django.db import connections

    assert "registry_modelversion" in connections["models_db"].introspection.table_names()
    assert "registry_modelversion" not in connections["users_db"].introspection.table_names()


@pytest.fixture
def registry(django_postgres):
    from services.django_project.wsgi import get_wsgi_application_for

    transport = InProcessTransport({"registry": get_wsgi_application_for("registry")})
    with httpx.Client(transport=transport, base_url="http://registry") as client:
        yield client


def test_registry_registers_and_promotes_a_version_on_postgres(registry):
    name, base = unique("live-model"), "/api/v1/registered-models"
    first = registry.post(f"{base}/{name}/versions", json={"artifact_uri": "s3://a/1.npz"})
    second = registry.post(f"{base}/{name}/versions", json={"artifact_uri": "s3://a/2.npz"})
    assert (first.status_code, first.json()["version"], second.json()["version"]) == (201, 1, 2)
    for stage in ("Staging", "Production"):
        moved = registry.post(f"{base}/{name}/versions/2/transition", json={"stage": stage})
        assert moved.status_code == 200, moved.text
    serving = registry.get(f"{base}/{name}/versions", params={"stage": "Production"}).json()
    assert [v["version"] for v in serving["items"]] == [2]
    audit = registry.get(f"{base}/{name}/versions/2/transitions").json()
    assert [(row["from_stage"], row["to_stage"]) for row in audit] == [
        ("None", "Staging"),
        ("Staging", "Production"),
    ]


def _nested(depth: int) -> bytes:
    return b'{"artifact_uri": "s3://b/m", "params": {"p": ' + b"[" * depth + b"]" * depth + b"}}"


# Hostile registry input on PostgreSQL (which refuses NUL in text and jsonb, unlike SQLite):
# (method, path under the model, raw JSON body or None, status, error code or "" for any).
HOSTILE = [
    ("GET", "/versions?offset=" + str(2**64), None, 422, "validation_error"),
    ("GET", "/versions?limit=-1", None, 422, "validation_error"),
    ("GET", "/versions/" + str(2**40), None, 404, "not_found"),
    ("GET", "/versions/" + str(2**70) + "/lineage", None, 404, "not_found"),
    ("POST", "/versions", rb'{"artifact_uri": "s3://b/m", "params": {"k": "v\u0000"}}', 422, ""),
    ("POST", "/versions", rb'{"artifact_uri": "s3://b/m", "params": {"k\u0000": 1}}', 422, ""),
    ("POST", "/versions", rb'{"artifact_uri": "s3://b/m", "metrics": {"a\u0000": 1}}', 422, ""),
    ("POST", "/versions", rb'{"artifact_uri": "s3://b/m\u0000"}', 422, ""),
    ("POST", "/versions", rb'{"artifact_uri": "s3://b/m", "run_id": "r\ud800"}', 422, ""),
    (
        "POST",
        "/versions",
        rb'{"artifact_uri": "s3://b/m", "input_schema": {"features": ["a\u0000"]}}',
        422,
        "",
    ),
    ("POST", "/versions", b'{"artifact_uri": "s3://b/m", "metrics": {"a": 1e999}}', 422, ""),
    (
        "POST",
        "/versions",
        b'{"artifact_uri": "s3://b/m", "metrics": {"a": 1' + b"0" * 400 + b"}}",
        422,
        "",
    ),
    ("POST", "/versions", b'{"artifact_uri": "s3://b/m", "metrics": {"a": NaN}}', 400, ""),
    (
        "POST",
        "/versions",
        b'{"artifact_uri": "s3://b/m", "parent_version": ' + b"9" * 30 + b"}",
        422,
        "",
    ),
    ("POST", "/versions", _nested(5000), 400, "bad_request"),
    ("POST", "/versions", _nested(40), 400, "bad_request"),
    ("POST", "/versions", b'{"artifact_uri": "' + b"x" * (2 * 1024 * 1024) + b'"}', 413, ""),
    ("POST", "/versions", b"{artifact_uri:", 400, "malformed_json"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), HOSTILE)
def test_hostile_registry_input_is_a_4xx_problem_on_postgres(
    registry, method, path, body, status, code
):
    from services.registry.models import RegisteredModel

    name = unique("live-hostile")
    headers = {"Content-Type": "application/json"}
    url = f"/api/v1/registered-models/{name}{path}"
    response = registry.request(method, url, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert not code or response.json()["error"] == code
    assert not RegisteredModel.objects.filter(name=name).exists()


@pytest.fixture(scope="module")
def models_url(infra_settings):
    return sqlalchemy_url(infra_settings.database_url("models_db"))


@pytest.fixture
def models_api(models_url):
    from services.models.config import Settings
    from services.models.main import create_app

    app = create_app(Settings(database_url=models_url, create_schema=True))
    with httpx.Client(
        transport=InProcessTransport({"models": app}), base_url="http://models"
    ) as client:
        yield client


def test_models_service_stores_models_in_postgres(models_api, models_url):
    name = unique("live-m")
    body = {
        "name": name,
        "task": "classification",
        "owner": "risk-team",
        "tags": ["Fraud", "fraud", "cards"],
        "input_schema": {"features": ["amount", "merchant_risk"]},
    }
    created = models_api.post("/api/v1/models", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["tags"] == ["fraud", "cards"]
    try:
        assert models_api.post("/api/v1/models", json=body).status_code == 409
        engine = make_engine(models_url)
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT owner FROM model_metadata WHERE name = :name"), {"name": name}
            ).scalar_one()
        engine.dispose()
        assert found == "risk-team"
    finally:
        assert models_api.delete(f"/api/v1/models/{name}").status_code == 204
    assert models_api.get(f"/api/v1/models/{name}").status_code == 404
