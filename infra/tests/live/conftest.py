"""Live lane: the adapters against the real local stack (`python -m infra up`).

Endpoints come from shared/infra_settings.py (SYNAPSE_* variables override the local stack's
defaults). Every server is probed once at session start; an unreachable one ends the run
with a message naming it, never a silent skip. Names carry a per-run suffix so runs never
collide, and each fixture removes what it made.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from shared.infra_settings import POSTGRES_PORTS, InfraSettings


def _host_port(address: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(address if "//" in address else f"//{address}")
    return parts.hostname or "localhost", parts.port or default_port


def servers(settings: InfraSettings) -> dict[str, tuple[str, int]]:
    """Return each server of the stack with the host and port the platform will use."""
    found = {
        "kafka": _host_port(settings.kafka_servers()[0], 9092),
        "redis": _host_port(settings.redis_url, 6379),
        "s3": _host_port(settings.s3_endpoint, 9000),
        "elasticsearch": _host_port(settings.elasticsearch_url, 9200),
        "consul": (settings.consul_host, settings.consul_port),
    }
    for alias in POSTGRES_PORTS:
        found[f"postgres {alias}"] = _host_port(settings.database_url(alias), 5432)
    return found


def unreachable(settings: InfraSettings, timeout: float = 1.0) -> list[str]:
    """Return a line for every server that refuses a TCP connection."""
    problems = []
    for name, (host, port) in servers(settings).items():
        try:
            socket.create_connection((host, port), timeout=timeout).close()
        except OSError as exc:
            problems.append(f"{name} at {host}:{port} is unreachable ({exc})")
    return problems


def pytest_sessionstart(session: pytest.Session) -> None:
    problems = unreachable(InfraSettings())
    if problems:
        pytest.exit(
            "live infrastructure tests need the local stack (make infra-up):\n  "
            + "\n  ".join(problems),
            returncode=1,
        )


@pytest.fixture(scope="session")
def infra_settings() -> InfraSettings:
    return InfraSettings()
