"""Training-service test helpers: payloads, a registry double, and an app wired for tests.

Build the app with an in-process registry and run a job to completion eagerly:

    from tests.utils.registry import registry_app  # noqa: F401 (fixture)
    from tests.utils.training import http_registry, make_training_env, run_job

    def test_job_registers_a_version(registry_app, tmp_path):
        env = make_training_env(tmp_path, registry=http_registry(registry_app))
        job = run_job(env, model_name="churn")
        assert job["status"] == "succeeded" and job["model_version"] == 1

With the real registry, mark the test ``REGISTRY_TRANSACTIONAL_DB``: the job runs in the
app's worker thread, whose Django connection only sees committed rows.

Tasks run through Celery itself (``task_always_eager`` on a ``memory://`` broker), so the
POST returns after the job finished; the job table lives in a private in-memory SQLite.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from services.training.config import Settings
from services.training.main import TrainingDeps, create_app
from services.training.store import Base
from shared.clients.registry import RegistryClient
from shared.db import make_engine, make_session_factory
from shared.utils.distributed import InMemoryLockFactory
from tests.utils.asgi import LocalTestClient

JOBS_URL = "/api/v1/jobs"
REGISTRY_TRANSACTIONAL_DB = pytest.mark.django_db(databases="__all__", transaction=True)
MEMORY_DB = "sqlite+pysqlite:///:memory:"
EPOCH = datetime(2024, 11, 3, 5, 30, tzinfo=UTC)  # the night New York falls back


def dataset_spec(**overrides: Any) -> dict[str, Any]:
    """Return a tiny classification dataset spec; keyword arguments replace fields."""
    spec: dict[str, Any] = {"kind": "classification", "n_samples": 96, "n_features": 3, "seed": 7}
    spec.update(overrides)
    return spec


def hyperparams(**overrides: Any) -> dict[str, Any]:
    """Return small, fast hyperparameters; keyword arguments replace fields."""
    params: dict[str, Any] = {"lr": 0.1, "epochs": 2, "batch_size": 16, "seed": 3}
    params.update(overrides)
    return params


def job_payload(model_name: str = "churn", **overrides: Any) -> dict[str, Any]:
    """Return a valid POST /api/v1/jobs body for ``model_name``."""
    payload: dict[str, Any] = {
        "model_name": model_name,
        "dataset": dataset_spec(),
        "hyperparams": hyperparams(),
    }
    payload.update(overrides)
    return payload


def train_split_size(n_samples: int, validation_fraction: float = 0.25) -> int:
    """Return how many rows the trainer sees for a dataset of ``n_samples`` rows."""
    n_val = min(n_samples - 1, max(1, round(n_samples * validation_fraction)))
    return n_samples - n_val


def expected_optimizer_steps(n_train: int, batch_size: int, epochs: int, accum: int = 1) -> int:
    """Return the optimiser updates of a run: ceil(ceil(n/batch)/accum) per epoch."""
    return epochs * math.ceil(math.ceil(n_train / batch_size) / accum)


@dataclass
class StepClock:
    """A UTC clock that advances by ``step`` on every call."""

    start: datetime = EPOCH
    step: timedelta = timedelta(seconds=1)
    calls: int = 0

    def __call__(self) -> datetime:
        now = self.start + self.step * self.calls
        self.calls += 1
        return now


@dataclass
class TickingClock:
    """A monotonic seconds clock for lock leases: advances by ``step`` on every call."""

    now: float = 1000.0
    step: float = 1.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now

    def advance(self, seconds: float) -> None:
        """Jump forward, e.g. past a lease's TTL."""
        self.now += seconds


@dataclass
class FakeRegistry:
    """A ModelRegistry double: sequential versions per model, every call recorded."""

    production: dict[str, int] = field(default_factory=dict)
    versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    fail_register: Exception | None = None

    def production_version(self, name: str) -> int | None:
        self.calls.append(("production_version", name))
        return self.production.get(name)

    def register_version(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("register_version", name))
        if self.fail_register is not None:
            raise self.fail_register
        history = self.versions.setdefault(name, [])
        body = {"name": name, "version": len(history) + 1, "stage": "None", **payload}
        history.append(body)
        return body


def http_registry(registry_wsgi: Any) -> RegistryClient:
    """Return a registry gateway that reaches the in-process registry app over HTTP."""
    from shared.clients.base import ServiceClient, StaticDiscovery
    from shared.clients.inprocess import InProcessTransport

    client = ServiceClient(
        "registry",
        discovery=StaticDiscovery({"registry": "http://registry"}),
        transport=InProcessTransport({"registry": registry_wsgi}),
    )
    return RegistryClient(client)


def file_session_factory(path: Path) -> sessionmaker[Session]:
    """Return sessions on a SQLite file: each thread gets its own connection; no fsync."""
    engine = make_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _no_fsync(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA synchronous=OFF")
        dbapi_connection.execute("PRAGMA journal_mode=MEMORY")

    return make_session_factory(engine, Base.metadata)


def training_settings(artifact_root: Path, **overrides: Any) -> Settings:
    """Return settings for tests: in-memory DB, the configured broker, eager tasks."""
    # Eager tasks never open a broker connection, so the broker URL is the service default:
    # the worker's configuration is checked the way a deployment checks it.
    values: dict[str, Any] = {
        "database_url": MEMORY_DB,
        "result_backend": "cache+memory://",
        "task_always_eager": True,
        "artifact_root": artifact_root,
        "lock_ttl": 600.0,
        "lock_timeout": 0.0,
        "registry_url": "http://registry",
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class TrainingEnv:
    """A training app wired for tests, with handles on its dependencies."""

    app: FastAPI
    client: TestClient
    deps: TrainingDeps
    registry: Any
    artifact_root: Path

    def run(self, job_id: str) -> str:
        """Run a job by id through the app's Celery task, inline."""
        task = self.app.state.celery.tasks["training.run_job"]
        return task.apply(args=(job_id,)).get()


def make_training_env(
    tmp_path: Path,
    *,
    registry: Any = None,
    lock_factory: Any = None,
    clock: Callable[[], datetime] | None = None,
    trainer: Callable[..., Any] | None = None,
    session_factory: sessionmaker[Session] | None = None,
    settings: dict[str, Any] | None = None,
    **deps: Any,
) -> TrainingEnv:
    """Build the training app on a private DB and ``tmp_path/artifacts``; doubles by default.

    Other keyword arguments set more of its dependencies (``tracker``, ``features``, ...).
    """
    root = tmp_path / "artifacts"
    overrides: dict[str, Any] = {
        "registry": registry if registry is not None else FakeRegistry(),
        "lock_factory": lock_factory or InMemoryLockFactory(clock=TickingClock()),
        "clock": clock or StepClock(),
    }
    if trainer is not None:
        overrides["trainer"] = trainer
    if session_factory is not None:
        overrides["session_factory"] = session_factory
    overrides.update(deps)
    app = create_app(training_settings(root, **(settings or {})), **overrides)
    deps: TrainingDeps = app.state.deps
    return TrainingEnv(app, LocalTestClient(app), deps, deps.registry, root)


def submit(env: TrainingEnv, model_name: str = "churn", **overrides: Any) -> dict[str, Any]:
    """POST a job and return the response body (asserting 202)."""
    response = env.client.post(JOBS_URL, json=job_payload(model_name, **overrides))
    assert response.status_code == 202, response.text
    return response.json()


def fetch(env: TrainingEnv, job_id: str) -> dict[str, Any]:
    """GET one job and return its body (asserting 200)."""
    response = env.client.get(f"{JOBS_URL}/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()


def run_job(env: TrainingEnv, model_name: str = "churn", **overrides: Any) -> dict[str, Any]:
    """Submit a job (it runs eagerly) and return the finished job as the API shows it."""
    return fetch(env, submit(env, model_name, **overrides)["id"])
