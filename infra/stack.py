"""The table of stack services, their ports, folders and the platform's connection settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR_ENV = "SYNAPSE_INFRA_DIR"
PG_USER = "synapse"
PG_PASSWORD = "synapse"
S3_ACCESS_KEY = "minioadmin"
S3_SECRET_KEY = "minioadmin"
# Connections from clients go to "localhost"; servers bind the IPv4 loopback only.
CLIENT_HOST = "localhost"
BIND_HOST = "127.0.0.1"


@dataclass(frozen=True)
class ServiceSpec:
    """One server of the stack: its name, kind, default port and, for postgres, its database."""

    name: str
    kind: str
    default_port: int
    database: str | None = None


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("postgres-models", "postgres", 5432, "models_db"),
    ServiceSpec("postgres-users", "postgres", 5433, "users_db"),
    ServiceSpec("postgres-experiments", "postgres", 5434, "experiments_db"),
    ServiceSpec("postgres-metrics", "postgres", 5435, "metrics_db"),
    ServiceSpec("redis", "redis", 6379),
    ServiceSpec("kafka", "kafka", 9092),
    ServiceSpec("elasticsearch", "elasticsearch", 9200),
    ServiceSpec("s3", "s3", 9000),
    ServiceSpec("consul", "consul", 8500),
)
SERVICE_NAMES = tuple(spec.name for spec in SERVICES)


@dataclass(frozen=True)
class Service:
    """A service of the stack resolved against the environment: port and state folder fixed."""

    spec: ServiceSpec
    port: int
    dir: Path

    @property
    def name(self) -> str:
        """Return the service's name."""
        return self.spec.name

    @property
    def kind(self) -> str:
        """Return the kind of server the service runs."""
        return self.spec.kind

    @property
    def pid_file(self) -> Path:
        """Return the file that records the running server's process."""
        return self.dir / "pid.json"

    @property
    def log_file(self) -> Path:
        """Return the server's log file."""
        return self.dir / "server.log"


class StackError(Exception):
    """A stack command cannot proceed; the message says why and names the service."""


def port_env_var(name: str) -> str:
    """Return the environment variable that overrides a service's port."""
    return f"SYNAPSE_INFRA_{name.upper().replace('-', '_')}_PORT"


def resolve_port(spec: ServiceSpec, env: Mapping[str, str]) -> int:
    """Return the service's port: its override from the environment, else the default."""
    var = port_env_var(spec.name)
    raw = env.get(var, "").strip()
    if not raw:
        return spec.default_port
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise StackError(f"{spec.name}: {var}={raw!r} is not a TCP port (1-65535)")
    return int(raw)


def var_dir(env: Mapping[str, str] | None = None) -> Path:
    """Return the folder that holds the stack's state and logs."""
    env = os.environ if env is None else env
    configured = env.get(VAR_DIR_ENV, "").strip()
    return Path(configured).resolve() if configured else REPO_ROOT / "var" / "infra"


def select(only: str | None) -> tuple[ServiceSpec, ...]:
    """Return the specs named in a comma-separated `--only` value (all when empty)."""
    if not only:
        return SERVICES
    wanted = [part.strip() for part in only.split(",") if part.strip()]
    unknown = sorted(set(wanted) - set(SERVICE_NAMES))
    if unknown:
        raise StackError(
            f"unknown service(s) {', '.join(unknown)}; known: {', '.join(SERVICE_NAMES)}"
        )
    return tuple(spec for spec in SERVICES if spec.name in wanted)


def resolve(specs: tuple[ServiceSpec, ...], env: Mapping[str, str] | None = None) -> list[Service]:
    """Resolve specs into services with ports from the environment and folders under var."""
    env = os.environ if env is None else env
    base = var_dir(env)
    return [Service(spec, resolve_port(spec, env), base / spec.name) for spec in specs]


# Every infrastructure port on its real server (shared/backends.py has the tables).
REAL_BACKENDS: dict[str, str] = {
    "SYNAPSE_EVENTS_BACKEND": "kafka",
    "SYNAPSE_CACHE_BACKEND": "redis",
    "SYNAPSE_STORAGE_BACKEND": "s3",
    "SYNAPSE_SEARCH_BACKEND": "elasticsearch",
    "SYNAPSE_DISCOVERY_BACKEND": "consul",
    "SYNAPSE_LOCKS_BACKEND": "redis",
}


def platform_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the variables the platform and tests read to reach this stack."""
    ports = {svc.name: svc.port for svc in resolve(SERVICES, env)}
    out = {
        "SYNAPSE_KAFKA_BOOTSTRAP": f"{CLIENT_HOST}:{ports['kafka']}",
        "SYNAPSE_REDIS_URL": f"redis://{CLIENT_HOST}:{ports['redis']}/0",
        "SYNAPSE_S3_ENDPOINT": f"{CLIENT_HOST}:{ports['s3']}",
        "SYNAPSE_S3_ACCESS_KEY": S3_ACCESS_KEY,
        "SYNAPSE_S3_SECRET_KEY": S3_SECRET_KEY,
        "SYNAPSE_S3_SECURE": "false",
        "SYNAPSE_ELASTICSEARCH_URL": f"http://{CLIENT_HOST}:{ports['elasticsearch']}",
        "SYNAPSE_CONSUL_HOST": CLIENT_HOST,
        "SYNAPSE_CONSUL_PORT": str(ports["consul"]),
        **REAL_BACKENDS,
    }
    for spec in SERVICES:
        if spec.database:
            out[f"SYNAPSE_DB_{spec.database.upper()}_URL"] = database_url(spec, ports[spec.name])
    return out


def database_url(spec: ServiceSpec, port: int) -> str:
    """Return the postgresql:// URL of a postgres service's database."""
    return f"postgresql://{PG_USER}:{PG_PASSWORD}@{CLIENT_HOST}:{port}/{spec.database}"
