"""`python -m infra env` switches every infrastructure port of the platform to the stack."""

from __future__ import annotations

from infra.stack import REAL_BACKENDS, platform_env
from shared import backends
from shared.infra_settings import InfraSettings


def test_the_local_stack_selects_a_real_backend_for_every_port():
    names = {f"SYNAPSE_{port.upper()}_BACKEND": table for port, table in backends.BACKENDS.items()}
    assert set(REAL_BACKENDS) == set(names)
    for variable, name in REAL_BACKENDS.items():
        assert name in names[variable] and name not in ("memory", "static")


def test_platform_env_reads_back_as_settings_with_real_backends(monkeypatch):
    for variable, value in platform_env({}).items():
        monkeypatch.setenv(variable, value)
    settings = InfraSettings()
    assert {port: backends.backend_name(port, settings) for port in backends.BACKENDS} == {
        "events": "kafka",
        "cache": "redis",
        "storage": "s3",
        "search": "elasticsearch",
        "discovery": "consul",
        "locks": "redis",
    }
