"""Training workers configured like the real stack serialise one model's jobs through Redis."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator

import pytest

from infra.tests.live.support import unique
from services.training.config import Settings
from services.training.main import create_worker_app, lock_name
from shared.backends import get_locks, reset_backends

# spawn, not fork: earlier tests leave client threads running (Kafka heartbeats), and a child
# forked while one of them holds a libc lock hangs in its first name lookup. Children are
# daemons, so a stuck one can never keep the test run from ending.
SPAWN = multiprocessing.get_context("spawn")
# Bounds of each wait, in seconds: a spawned child imports the platform before it acts.
START = 60


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
    release.wait(START)
    lock.release()
    done.set()


def test_a_second_worker_process_waits_for_the_model_lock_of_the_first(stack_locks):
    model = unique("churn")
    held, release, done = (SPAWN.Event() for _ in range(3))
    holder = SPAWN.Process(target=hold_model_lock, args=(model, held, release, done), daemon=True)
    holder.start()
    assert held.wait(START), "the first worker process never took the lock"
    create_worker_app(Settings())
    lock = get_locks()(lock_name(model), ttl=10)
    assert lock.acquire(timeout=0) is False
    release.set()
    assert done.wait(5)
    assert lock.acquire(timeout=5)
    lock.release()
    holder.join(START)
    assert holder.exitcode == 0
