"""What `python -m devstack up` runs: one process per built service, setup steps, environment.

Everything derives from the service manifest (``shared/services.py``) and the environment
the command runs in. Without infrastructure variables the platform runs on its embedded
defaults (SQLite files under ``var/``, in-memory bus, cache, storage, search and static
discovery) and training runs its jobs in the API process; with ``python -m infra env``
exported, the same plan points every service at the real servers and adds the Celery worker.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from services.django_project.databases import env_var_for
from shared.backend_scope import PROCESS_LOCAL
from shared.services import LOGICAL_DATABASES, ServiceSpec, built_services

Mode = Literal["embedded", "infra"]
HOST = "127.0.0.1"
READY_PATH = "/ready"
# Set by `python -m infra env`: the Redis the cache, locks and (here) the Celery broker use.
REDIS_URL_VAR = "SYNAPSE_REDIS_URL"
WORKER_MODULE = "services.training.worker"
LOCKS_BACKEND_VAR = "SYNAPSE_LOCKS_BACKEND"
REDIS_SCHEMES = frozenset({"redis", "rediss"})


class PlanError(Exception):
    """The environment asks for a platform that cannot run correctly."""


@dataclass(frozen=True)
class ProcessSpec:
    """One long-running process: a service's web server or a Celery worker."""

    name: str
    argv: tuple[str, ...]
    # A word of the command line; a pid file is trusted only if its process still has it.
    marker: str
    # The port a web server listens on; None for a worker (it has no HTTP endpoint).
    port: int | None = None

    @property
    def ready_url(self) -> str | None:
        """Return the URL of the process's /ready endpoint, or None when it has none."""
        return None if self.port is None else f"http://{HOST}:{self.port}{READY_PATH}"


@dataclass(frozen=True)
class Plan:
    """The processes to run, the one-shot steps to run first and the environment to add."""

    mode: Mode
    processes: tuple[ProcessSpec, ...]
    setup: tuple[tuple[str, tuple[str, ...]], ...] = ()
    env: dict[str, str] = field(default_factory=dict)

    def names(self) -> list[str]:
        """Return the process names in start order."""
        return [spec.name for spec in self.processes]


def detect_mode(environ: Mapping[str, str]) -> Mode:
    """Return "infra" when the environment names real servers, else "embedded"."""
    database_urls = (environ.get(env_var_for(alias), "").strip() for alias in LOGICAL_DATABASES)
    if environ.get(REDIS_URL_VAR, "").strip() or any(database_urls):
        return "infra"
    return "embedded"


def asgi_target(spec: ServiceSpec) -> str:
    """Return the uvicorn factory of a built service, from its framework."""
    module = "asgi" if spec.framework == "django" else "main"
    return f"{spec.package}.{module}:create_app"


def server_process(spec: ServiceSpec, python: str = sys.executable) -> ProcessSpec:
    """Return the uvicorn process that serves one service on its manifest port."""
    target = asgi_target(spec)
    argv = (python, "-m", "uvicorn", target, "--factory", "--host", HOST, "--port", str(spec.port))
    return ProcessSpec(spec.name, argv, marker=target, port=spec.port)


def worker_process(spec: ServiceSpec, python: str = sys.executable) -> ProcessSpec:
    """Return the Celery worker process of a service that runs one."""
    module = f"{spec.package}.worker"
    argv = (
        python,
        "-m",
        "celery",
        "-A",
        module,
        "worker",
        "--loglevel=INFO",
        "-n",
        f"{spec.name}@%h",
    )
    return ProcessSpec(f"{spec.name}-worker", argv, marker=module)


def broker_url(environ: Mapping[str, str], spec: ServiceSpec) -> str | None:
    """Return the Celery broker a service's worker should use, or None when none is configured."""
    explicit = environ.get(f"{spec.env_prefix}BROKER_URL", "").strip()
    return explicit or environ.get(REDIS_URL_VAR, "").strip() or None


def celery_env(environ: Mapping[str, str], spec: ServiceSpec) -> dict[str, str]:
    """Return the variables that choose a real broker or eager, in-process task runs."""
    broker = broker_url(environ, spec)
    if broker is None:
        # No broker to reach: the API process runs each job itself.
        return {f"{spec.env_prefix}TASK_ALWAYS_EAGER": "true"}
    # Results are ignored by the tasks; the same Redis keeps the backend reachable.
    env = {f"{spec.env_prefix}BROKER_URL": broker, f"{spec.env_prefix}RESULT_BACKEND": broker}
    return {**env, **worker_lock_env(environ, broker)}


def worker_lock_env(environ: Mapping[str, str], broker: str) -> dict[str, str]:
    """Return the variables that put a worker's locks on a Redis every process shares."""
    # A worker runs jobs in a pool of processes: an in-memory lock would keep none of them
    # apart, and the worker itself refuses one at start-up, so the plan refuses it first.
    configured = environ.get(LOCKS_BACKEND_VAR, "").strip()
    if configured in PROCESS_LOCAL:
        raise PlanError(
            f"{LOCKS_BACKEND_VAR}={configured} cannot guard jobs run by a Celery worker's "
            f"processes (broker {broker_host(broker)}); unset it or set it to redis"
        )
    env = {LOCKS_BACKEND_VAR: "redis"}
    if not environ.get(REDIS_URL_VAR, "").strip() and urlsplit(broker).scheme in REDIS_SCHEMES:
        # The broker's Redis is the one server sure to be there; the lock keys have a prefix.
        env[REDIS_URL_VAR] = broker
    return env


def broker_host(url: str) -> str:
    """Return ``scheme://host:port`` of a broker URL, leaving out any credentials."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}"


def database_env(environ: Mapping[str, str], spec: ServiceSpec) -> dict[str, str]:
    """Return a SQLAlchemy service's database URL taken from its logical database's URL."""
    # Django services read SYNAPSE_DB_<ALIAS>_URL themselves; the FastAPI services only read
    # their own prefix, so without this they would stay on SQLite beside a real database.
    if spec.framework == "django" or spec.database is None:
        return {}
    url = environ.get(env_var_for(spec.database), "").strip()
    return {f"{spec.env_prefix}DATABASE_URL": url} if url else {}


# Services whose settings name another service's URL: (client, setting, service it calls).
# Set, the client goes through that service (artifacts through storage, runs to experiments)
# instead of its own process's in-memory port, so the local processes share one platform.
SERVICE_LINKS = (
    ("training", "STORAGE_URL", "storage"),
    ("training", "EXPERIMENTS_URL", "experiments"),
    ("training", "FEATURES_URL", "features"),
    ("inference", "STORAGE_URL", "storage"),
    ("pipeline", "STORAGE_URL", "storage"),
    ("pipeline", "FEATURES_URL", "features"),
    ("pipeline", "TRAINING_URL", "training"),
    ("pipeline", "REGISTRY_URL", "registry"),
    ("inference", "FEATURES_URL", "features"),
    ("monitoring", "FEATURES_URL", "features"),
    ("registry", "EXPERIMENTS_URL", "experiments"),
    ("experiments", "REGISTRY_URL", "registry"),
)


def links_env(specs: list[ServiceSpec]) -> dict[str, str]:
    """Return the URL settings that point one built service at another built one."""
    built = {spec.name: spec for spec in specs}
    return {
        f"{built[client].env_prefix}{setting}": built[target].default_url
        for client, setting, target in SERVICE_LINKS
        if client in built and target in built
    }


def child_env(environ: Mapping[str, str], specs: list[ServiceSpec]) -> dict[str, str]:
    """Return the variables to add for the services; what the caller set explicitly wins."""
    added: dict[str, str] = links_env(specs)
    for spec in specs:
        added.update(database_env(environ, spec))
        if spec.celery_worker:
            added.update(celery_env(environ, spec))
    return {name: value for name, value in added.items() if not environ.get(name, "").strip()}


def setup_steps(
    mode: Mode, specs: list[ServiceSpec], python: str
) -> list[tuple[str, tuple[str, ...]]]:
    """Return the one-shot commands run before the servers start, with their names."""
    steps: list[tuple[str, tuple[str, ...]]] = []
    if mode == "infra":
        # Topics, buckets, index mappings and KV defaults; idempotent.
        steps.append(("bootstrap", (python, "-m", "shared.bootstrap", "all")))
    if any(spec.framework == "django" for spec in specs):
        command = (python, "-m", "services.django_project", "migrate_all", "--noinput")
        steps.append(("migrate", command))
    return steps


def build_plan(environ: Mapping[str, str], python: str = sys.executable) -> Plan:
    """Return the plan for the built services of the manifest in this environment."""
    specs = built_services()
    mode = detect_mode(environ)
    env = child_env(environ, specs)
    processes: list[ProcessSpec] = []
    for spec in specs:
        if spec.framework != "celery":
            processes.append(server_process(spec, python))
        if spec.celery_worker and broker_url({**environ, **env}, spec) is not None:
            processes.append(worker_process(spec, python))
    # The gateway's readiness asks every other service, so it is started and awaited last.
    processes.sort(key=lambda process: process.name == "gateway")
    return Plan(mode, tuple(processes), tuple(setup_steps(mode, specs, python)), env)
