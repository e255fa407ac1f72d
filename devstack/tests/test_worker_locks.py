"""The training worker `make up` starts accepts the lock backend the plan gives it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from celery.signals import worker_ready

from devstack.plan import build_plan
from services.training.config import Settings
from services.training.main import create_worker_app
from shared.backend_scope import BackendScopeError
from shared.backends import reset_backends

BROKER = {"SYNAPSE_TRAINING_BROKER_URL": "redis://q:6379/2"}


class Consumer:
    """What Celery sends worker_ready with: the worker's consumer, which knows its app."""

    def __init__(self, app: object) -> None:
        self.app = app


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


def test_the_worker_restates_its_lock_backend_once_its_log_is_set_up(environment, caplog):
    for name, value in {**BROKER, **build_plan(BROKER, python="py").env}.items():
        environment.setenv(name, value)
    reset_backends()
    app, other = create_worker_app(Settings()), create_worker_app(Settings())
    with caplog.at_level(logging.INFO, logger="synapse.backends"):
        worker_ready.send(sender=Consumer(app))
    # Each app restates its own statement once, not the other app's.
    assert [r.getMessage() for r in caplog.records] == [
        "training worker: the per-model training lock uses locks backend 'redis' "
        "(shared by every process); safe: jobs run in Celery worker processes "
        "(a pool per worker, any number of workers)"
    ]
    assert other is not app
