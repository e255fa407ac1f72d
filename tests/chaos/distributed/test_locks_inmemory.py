"""In-memory distributed locks: ownership, leases on an injected clock, thread contention."""

from __future__ import annotations

import threading

import pytest

from shared.backends import create
from shared.errors import ValidationError
from shared.infra_settings import InfraSettings
from shared.utils.distributed import (
    InMemoryLockFactory,
    LockNotOwnedError,
    LockTimeoutError,
    RedisLockFactory,
)
from shared.utils.timeutils import FakeClock

pytestmark = pytest.mark.training


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def locks(clock: FakeClock) -> InMemoryLockFactory:
    return InMemoryLockFactory(clock=clock)


def test_second_owner_cannot_take_a_held_lock(locks):
    first, second = locks("job-1", ttl=10), locks("job-1", ttl=10)
    assert first.acquire(timeout=0)
    assert not second.acquire(timeout=0)
    assert second.owner() == first.token


def test_release_lets_the_next_owner_in(locks):
    first, second = locks("job-1"), locks("job-1")
    first.acquire(timeout=0)
    first.release()
    assert second.acquire(timeout=0)
    assert second.held() and not first.held()


def test_locks_with_different_names_are_independent(locks):
    assert locks("job-1").acquire(timeout=0)
    assert locks("job-2").acquire(timeout=0)


def test_a_worker_that_does_not_hold_a_lock_cannot_free_it(locks):
    owner, intruder = locks("ckpt"), locks("ckpt")
    owner.acquire(timeout=0)
    with pytest.raises(LockNotOwnedError):
        intruder.release()
    assert owner.held()


def test_stale_owner_cannot_release_a_lease_taken_after_expiry(locks, clock):
    stale, fresh = locks("ckpt", ttl=5), locks("ckpt", ttl=5)
    stale.acquire(timeout=0)
    clock.advance(5)
    assert fresh.acquire(timeout=0)
    with pytest.raises(LockNotOwnedError):
        stale.release()
    assert fresh.held()


def test_lease_holds_until_the_ttl_elapses(locks, clock):
    lock = locks("rank-0", ttl=2.5)
    lock.acquire(timeout=0)
    clock.advance(2.499)
    assert lock.held()
    clock.advance(0.001)
    assert lock.owner() is None


def test_expired_lease_can_be_taken_by_another_owner(locks, clock):
    locks("rank-0", ttl=30).acquire(timeout=0)
    clock.advance(29)
    assert not locks("rank-0").acquire(timeout=0)
    clock.advance(1)
    assert locks("rank-0").acquire(timeout=0)


def test_extend_restarts_the_lease_for_a_full_ttl(locks, clock):
    lock = locks("heartbeat", ttl=10)
    lock.acquire(timeout=0)
    clock.advance(8)
    assert lock.extend()
    clock.advance(9)
    assert lock.held()
    clock.advance(1)
    assert not lock.held()


def test_a_worker_that_does_not_hold_a_lock_cannot_prolong_it(locks):
    locks("heartbeat").acquire(timeout=0)
    assert not locks("heartbeat").extend()


def test_only_one_of_many_contending_threads_wins(locks):
    barrier = threading.Barrier(8)
    handles = [locks("allreduce", ttl=60) for _ in range(8)]
    results: list[bool] = []

    def contend(lock):
        barrier.wait(timeout=5)
        results.append(lock.acquire(timeout=0))

    threads = [threading.Thread(target=contend, args=(h,)) for h in handles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert sorted(results) == [False] * 7 + [True]


def test_waiter_gets_the_lock_when_the_holder_releases(locks):
    holder, waiter = locks("shard"), locks("shard")
    holder.acquire(timeout=0)
    started, got = threading.Event(), []

    def wait_for_lock():
        started.set()
        got.append(waiter.acquire(timeout=5))

    thread = threading.Thread(target=wait_for_lock)
    thread.start()
    started.wait(timeout=5)
    holder.release()
    thread.join(timeout=5)
    assert got == [True] and waiter.held()


def test_work_that_fails_while_holding_a_lock_leaves_it_free(locks):
    lock = locks("save")
    with pytest.raises(RuntimeError), lock:  # noqa: PT012 - the lock is the block under test
        assert lock.held()
        raise RuntimeError("write failed")
    assert lock.owner() is None


def test_context_manager_refuses_a_held_lock(locks):
    locks("save").acquire(timeout=0)
    contender = locks("save")
    contender.context_timeout = 0
    with pytest.raises(LockTimeoutError), contender:
        pass


@pytest.mark.parametrize("ttl", [0, -1])
def test_non_positive_ttl_is_rejected(locks, ttl):
    with pytest.raises(ValidationError):
        locks("x", ttl=ttl)


def test_backend_table_builds_the_configured_factory():
    assert isinstance(create("locks", "memory"), InMemoryLockFactory)
    redis_factory = create("locks", "redis", InfraSettings(redis_url="redis://cache:6379/1"))
    assert isinstance(redis_factory, RedisLockFactory)
    assert redis_factory.client.connection_pool.connection_kwargs["db"] == 1
    with pytest.raises(ValidationError, match="unknown locks backend 'zookeeper'; choose one of"):
        create("locks", "zookeeper")
