"""Infrastructure settings: environment overrides and the PostgreSQL URL of each database."""

from __future__ import annotations

import pytest

from shared.errors import ValidationError
from shared.infra_settings import InfraSettings, sqlalchemy_url
from tests.utils.infra import clear_infra_env

pytestmark = pytest.mark.models


@pytest.fixture(autouse=True)
def default_environment(monkeypatch):
    clear_infra_env(monkeypatch)


def test_environment_overrides_every_server_address(monkeypatch):
    monkeypatch.setenv("SYNAPSE_KAFKA_BOOTSTRAP", "k1:9092, k2:9092")
    monkeypatch.setenv("SYNAPSE_S3_SECURE", "true")
    monkeypatch.setenv("SYNAPSE_CONSUL_PORT", "18500")
    settings = InfraSettings()
    assert settings.kafka_servers() == ["k1:9092", "k2:9092"]
    assert (settings.s3_secure, settings.consul_port) == (True, 18500)


def test_database_url_defaults_to_the_local_cluster_of_each_database():
    settings = InfraSettings()
    assert settings.database_url("models_db") == (
        "postgresql://synapse:synapse@localhost:5432/models_db"
    )
    assert settings.database_url("metrics_db").endswith("@localhost:5435/metrics_db")


def test_database_url_comes_from_the_same_variable_django_reads(monkeypatch):
    monkeypatch.setenv("SYNAPSE_DB_USERS_DB_URL", "postgres://u:p@db-users:6432/users_db")
    assert InfraSettings().database_url("users_db") == "postgres://u:p@db-users:6432/users_db"
    with pytest.raises(ValidationError):
        InfraSettings().database_url("default")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@h:5432/models_db", "postgresql+psycopg2://u:p@h:5432/models_db"),
        (
            "postgresql://u@h/models_db?sslmode=require",
            "postgresql+psycopg2://u@h/models_db?sslmode=require",
        ),
        ("sqlite:///var/models.sqlite3", "sqlite:///var/models.sqlite3"),
    ],
)
def test_sqlalchemy_url_names_the_psycopg2_driver(url, expected):
    assert sqlalchemy_url(url) == expected
