"""Training workers configured like the real stack serialise one model's jobs through Redis."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator

import pytest

from infra.tests.live.support import unique
from services.training.config import Settings
from services.training.main import create_worker_app, lock_name
from shared.backends import get_locks, reset_backends

# fork: the children inherit the parent's imports and environment, so they start at once.
FORK = multiprocessing.get_context("fork")


@pytest.fixture
def stack_locks(infra_settings, monkeypatch) -> Iterator[None]:
    monkeypatch.setenv("SYNAPSE_LOCKS_BACKEND", "redis")
    monkeypatch.setenv("SYNAPSE_REDIS_URL", infra_settings.redis_url)
    reset_backends()
    yield
    reset_backends()


def hold_model_lock(model: str, held, release, done) -> None:
    """Child process: a worker process running a job of `model` (it holds the model lock)."""
    reset_backends()
    create_worker_app(Settings())
    lock = get_locks()(lock_name(model), ttl=10)
    assert lock.acquire(timeout=5)
    held.set()
    release.wait(5)
    lock.release()
    done.set()


def test_a_second_worker_process_waits_for_the_model_lock_of_the_first(stack_locks):
    model = unique("churn")
    held, release, done = (FORK.Event() for _ in range(3))
    holder = FORK.Process(target=hold_model_lock, args=(model, held, release, done))
    holder.start()
    assert held.wait(5), "the first worker process never took the lock"
    create_worker_app(Settings())
    lock = get_locks()(lock_name(model), ttl=10)
    assert lock.acquire(timeout=0) is False
    release.set()
    assert done.wait(5)
    assert lock.acquire(timeout=5)
    lock.release()
    holder.join(5)
    assert holder.exitcode == 0
