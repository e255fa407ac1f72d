"""Factories for models-service tests: payloads, a stepping clock, an app on in-memory SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.models.config import Settings
from services.models.main import build_session_factory, create_app
from services.models.store import ModelRepository
from shared.db import session_scope
from tests.utils.asgi import LocalTestClient

MEMORY_URL = "sqlite+pysqlite:///:memory:"
MODELS_URL = "/api/v1/models"
EPOCH = datetime(2024, 3, 10, 6, 0, tzinfo=UTC)  # the night New York springs forward


def model_payload(**overrides: Any) -> dict[str, Any]:
    """Return a valid create-model body; keyword arguments replace or add fields."""
    payload: dict[str, Any] = {
        "name": "churn-classifier",
        "description": "Predicts subscription churn.",
        "task": "classification",
        "owner": "alice",
        "tags": ["churn", "production"],
        "input_schema": {"features": ["tenure_months", "monthly_spend", "support_calls"]},
    }
    payload.update(overrides)
    return payload


@dataclass
class StepClock:
    """A clock that returns `start`, then advances by `step` on every call."""

    start: datetime = EPOCH
    step: timedelta = timedelta(minutes=1)
    calls: int = 0
    pending: list[datetime] = field(default_factory=list)

    def __call__(self) -> datetime:
        if self.pending:
            return self.pending.pop(0)
        now = self.start + self.step * self.calls
        self.calls += 1
        return now


@dataclass
class ModelsEnv:
    """A models app wired to a private in-memory database, with handles tests need."""

    engine: Engine
    session_factory: sessionmaker[Session]
    clock: StepClock
    app: FastAPI
    client: TestClient

    def create(self, **overrides: Any) -> dict[str, Any]:
        """Create a model through the API and return its JSON body."""
        response = self.client.post(MODELS_URL, json=model_payload(**overrides))
        assert response.status_code == 201, response.text
        return response.json()


def make_models_env(*, clock: StepClock | None = None) -> ModelsEnv:
    """Build a models app on a fresh in-memory SQLite database."""
    clock = clock or StepClock()
    # The service's own startup: settings, engine, schema; then the readiness query it serves.
    factory = build_session_factory(Settings(database_url=MEMORY_URL))
    with session_scope(factory) as session:
        ModelRepository(session).ping()
    app = create_app(Settings(database_url=MEMORY_URL), factory, clock=clock)
    client = LocalTestClient(app, raise_server_exceptions=False)
    return ModelsEnv(factory.kw["bind"], factory, clock, app, client)


@contextmanager
def count_statements(engine: Engine) -> Iterator[list[str]]:
    """Collect the SQL statements the engine runs inside the block."""
    statements: list[str] = []

    def _record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _record)
