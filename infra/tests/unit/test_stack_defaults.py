"""The local stack's default ports and databases agree with the platform's InfraSettings."""

from __future__ import annotations

import os

import pytest

from infra.stack import SERVICES, platform_env
from shared.infra_settings import POSTGRES_PORTS, InfraSettings
from shared.services import LOGICAL_DATABASES
from shared.services import SERVICES as PLATFORM_SERVICES


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("SYNAPSE_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_stack_postgres_clusters_are_the_settings_logical_databases() -> None:
    stack = {spec.database: spec.default_port for spec in SERVICES if spec.kind == "postgres"}
    assert stack == POSTGRES_PORTS
    assert tuple(POSTGRES_PORTS) == LOGICAL_DATABASES


def test_every_service_database_has_a_postgres_cluster() -> None:
    used = {spec.database for spec in PLATFORM_SERVICES.values() if spec.database}
    assert used <= set(POSTGRES_PORTS)


def test_settings_defaults_reach_the_stack_on_its_default_ports(
    clean_env: pytest.MonkeyPatch,
) -> None:
    defaults = InfraSettings()
    for name, value in platform_env({}).items():
        clean_env.setenv(name, value)
    stack = InfraSettings()
    # Addresses agree; the backend choice differs on purpose (in-process by default, the
    # stack's servers under `infra env`; test_stack_backends.py pins that choice).
    assert stack.model_dump() == {
        **defaults.model_dump(),
        **{f"db_{alias}_url": stack.database_url(alias) for alias in POSTGRES_PORTS},
        **{
            field: value
            for field, value in stack.model_dump().items()
            if field.endswith("_backend")
        },
    }
    assert {alias: stack.database_url(alias) for alias in POSTGRES_PORTS} == {
        alias: defaults.database_url(alias) for alias in POSTGRES_PORTS
    }
