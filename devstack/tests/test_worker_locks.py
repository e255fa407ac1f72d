"""The training worker `make up` starts accepts the lock backend the plan gives it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.plan import build_plan
from services.training.config import Settings
from services.training.main import create_worker_app
from shared.backend_scope import BackendScopeError
from shared.backends import reset_backends

BROKER = {"SYNAPSE_TRAINING_BROKER_URL": "redis://q:6379/2"}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in ("SYNAPSE_LOCKS_BACKEND", "SYNAPSE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    reset_backends()
    yield monkeypatch
    reset_backends()


def test_the_worker_of_the_plan_starts_with_locks_on_the_brokers_redis(environment):
    for name, value in {**BROKER, **build_plan(BROKER, python="py").env}.items():
        environment.setenv(name, value)
    reset_backends()
    # Building the app opens no connection; the lock client is made on the first job.
    app = create_worker_app(Settings())
    assert app.main == "synapse-training"


def test_a_worker_started_by_hand_on_the_defaults_refuses_in_memory_locks(environment):
    with pytest.raises(BackendScopeError, match="jobs run in Celery worker processes"):
        create_worker_app(Settings())
