"""The shared Django configuration: database URLs, the router and per-service apps."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from django.apps import apps
from django.core import management
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from services.django_project import __main__ as manage
from services.django_project.asgi import get_asgi_application_for
from services.django_project.databases import database_settings, parse_database_url
from services.django_project.routers import APP_DATABASES, DatabaseRouter
from services.django_project.wsgi import get_wsgi_application_for
from services.registry.models import ModelVersion, RegisteredModel, StageTransition
from shared.clients.inprocess import InProcessTransport
from tests.utils.registry import REGISTRY_DB

pytestmark = pytest.mark.registry

CONTRIB_LABELS = {"admin", "auth", "contenttypes", "sessions", "messages", "staticfiles", "sites"}


def test_django_services_connect_to_the_database_their_url_names():
    parsed = parse_database_url("postgres://synapse:s3cret@users-db:5433/users_db")
    assert parsed["ENGINE"] == "django.db.backends.postgresql"
    assert (parsed["HOST"], parsed["PORT"]) == ("users-db", "5433")
    assert (parsed["USER"], parsed["PASSWORD"], parsed["NAME"]) == ("synapse", "s3cret", "users_db")


def test_postgres_url_unquotes_credentials_and_reads_options():
    parsed = parse_database_url("postgresql://svc:p%40ss%2Fw@db/models_db?sslmode=require")
    assert parsed["PASSWORD"] == "p@ss/w"
    assert parsed["OPTIONS"] == {"sslmode": "require"}
    assert parsed["PORT"] == ""


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("sqlite:///var/local.db", "var/local.db"),
        ("sqlite:////srv/data/models.db", "/srv/data/models.db"),
        ("sqlite://:memory:", ":memory:"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_sqlite_urls_name_a_file_or_memory(url, name):
    assert parse_database_url(url)["NAME"] == name


@pytest.mark.parametrize("url", ["mysql://db/x", "postgres://db:5432/", "redis://cache:6379/0"])
def test_unusable_database_urls_are_refused(url):
    with pytest.raises(ImproperlyConfigured):
        parse_database_url(url)


def test_each_alias_reads_its_own_url_variable(tmp_path):
    environ = {
        "SYNAPSE_DB_MODELS_DB_URL": "postgres://svc@models-db:5432/models_db",
        "SYNAPSE_DB_USERS_DB_URL": "postgres://svc@users-db:5433/users_db",
        "SYNAPSE_DB_METRICS_DB_URL": "postgres://svc@metrics-db:5435/metrics_db",
    }
    databases = database_settings(environ, tmp_path)
    ports = {
        alias: databases[alias].get("PORT") for alias in ("models_db", "users_db", "metrics_db")
    }
    assert ports == {"models_db": "5432", "users_db": "5433", "metrics_db": "5435"}
    assert databases["users_db"]["NAME"] == "users_db"


def test_aliases_without_a_url_use_sqlite_files_in_the_var_dir(tmp_path):
    databases = database_settings({}, tmp_path)
    assert set(databases) == {"default", "models_db", "users_db", "experiments_db", "metrics_db"}
    assert databases["experiments_db"]["NAME"] == str(Path(tmp_path) / "experiments_db.sqlite3")
    assert databases["models_db"]["ENGINE"] == "django.db.backends.sqlite3"


def test_router_sends_registry_reads_writes_and_migrations_to_models_db():
    router = DatabaseRouter()
    assert router.db_for_read(ModelVersion) == "models_db"
    assert router.db_for_write(StageTransition) == "models_db"
    assert router.allow_migrate("models_db", "registry") is True
    assert router.allow_migrate("default", "registry") is False
    assert router.allow_migrate("default", "contenttypes") is True
    assert router.allow_migrate("models_db", "contenttypes") is False


def test_router_allows_relations_only_within_one_database():
    router = DatabaseRouter()
    assert router.allow_relation(ModelVersion(), RegisteredModel()) is True
    from django.contrib.contenttypes.models import ContentType

    assert router.allow_relation(ModelVersion(), ContentType()) is False


@REGISTRY_DB
def test_registry_tables_exist_only_in_models_db():
    tables = {alias: set(connections[alias].introspection.table_names()) for alias in connections}
    assert "registry_modelversion" in tables["models_db"]
    others = [
        alias
        for alias in tables
        if alias != "models_db" and "registry_modelversion" in tables[alias]
    ]
    assert others == []


def test_installed_app_labels_do_not_collide_with_django_contrib():
    ours = {
        config.label for config in apps.get_app_configs() if config.name.startswith("services.")
    }
    assert ours == {"registry", "experiments", "features"}
    assert not set(APP_DATABASES) & CONTRIB_LABELS


def test_unknown_service_has_no_app():
    with pytest.raises(ImproperlyConfigured):
        get_wsgi_application_for("warehouse")


@REGISTRY_DB
def test_asgi_app_serves_the_registry_health():
    transport = InProcessTransport({"registry": get_asgi_application_for("registry")})
    with httpx.Client(transport=transport, base_url="http://registry") as client:
        response = client.get("/health")
    assert response.json() == {"service": "registry", "status": "ok"}


def test_migrate_all_migrates_default_then_each_django_service_database(monkeypatch):
    calls: list[list[str]] = []
    monkeypatch.setattr(management, "execute_from_command_line", calls.append)
    manage.main(["migrate_all", "--noinput"])
    assert calls == [
        [manage.PROG, "migrate", "--database", "default", "--noinput"],
        [manage.PROG, "migrate", "--database", "models_db", "--noinput"],
        [manage.PROG, "migrate", "--database", "experiments_db", "--noinput"],
    ]


def test_other_management_commands_pass_through_unchanged(monkeypatch):
    calls: list[list[str]] = []
    monkeypatch.setattr(management, "execute_from_command_line", calls.append)
    manage.main(["showmigrations", "--database", "models_db"])
    assert calls == [[manage.PROG, "showmigrations", "--database", "models_db"]]
