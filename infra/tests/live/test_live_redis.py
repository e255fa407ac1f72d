"""Cache contract, client options and a lock contended by two processes, on the real Redis."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from infra.tests.live.support import unique
from shared.cache.redis import RedisCache, make_redis_client
from shared.infra_settings import InfraSettings
from shared.utils.distributed import RedisLockFactory
from tests.utils.infra_contracts import CacheContract

# spawn, not fork: earlier tests leave client threads running (Kafka heartbeats), and a child
# forked while one of them holds a libc lock hangs in its first name lookup. Children are
# daemons, so a stuck one can never keep the test run from ending.
SPAWN = multiprocessing.get_context("spawn")
# Bounds of each wait, in seconds: a spawned child imports the platform before it acts.
START = 60


@pytest.fixture(scope="module")
def redis_client(infra_settings):
    client = make_redis_client(infra_settings)
    yield client
    client.close()


class TestRedisCache(CacheContract):
    @pytest.fixture
    def cache(self, redis_client):
        prefix = unique("synapse:test") + ":"
        yield RedisCache(redis_client, prefix=prefix)
        for key in redis_client.scan_iter(match=prefix + "*"):
            redis_client.delete(key)

    @pytest.fixture
    def wait(self):
        # The server's own clock expires keys, so real time has to pass.
        return time.sleep


def test_database_index_in_the_url_isolates_keys(infra_settings):
    key = unique("synapse:test:db")
    url = infra_settings.redis_url.rsplit("/", 1)[0]
    db5 = make_redis_client(InfraSettings(redis_url=f"{url}/5"))
    db6 = make_redis_client(InfraSettings(redis_url=f"{url}/6"))
    try:
        db5.set(key, "five", px=5_000)
        assert (db5.get(key), db6.get(key)) == ("five", None)
    finally:
        db5.delete(key)
        db5.close()
        db6.close()


def hold_lock(url: str, name: str, held, release, done) -> None:
    """Child process: take the lock, report it, keep it until told to let go."""
    lock = RedisLockFactory(url=url)(name, ttl=10)
    assert lock.acquire(timeout=5)
    held.set()
    release.wait(START)
    lock.release()
    done.set()


def try_lock(url: str, name: str, results, proceed) -> None:
    """Child process: try once while the lock is held, then wait for it after being told to."""
    lock = RedisLockFactory(url=url)(name, ttl=10)
    results.put(("while held", lock.acquire(timeout=0)))
    proceed.wait(START)
    got = lock.acquire(timeout=5)
    results.put(("after release", got, lock.owner() == lock.token))
    if got:
        lock.release()


def test_lock_is_exclusive_across_processes(infra_settings):
    url, name = infra_settings.redis_url, unique("model")
    held, release, done, proceed = (SPAWN.Event() for _ in range(4))
    results = SPAWN.Queue()
    holder = SPAWN.Process(target=hold_lock, args=(url, name, held, release, done), daemon=True)
    waiter = SPAWN.Process(target=try_lock, args=(url, name, results, proceed), daemon=True)
    holder.start()
    assert held.wait(START), "holder never took the lock"
    waiter.start()
    assert results.get(timeout=START) == ("while held", False)
    release.set()
    assert done.wait(5)
    proceed.set()
    assert results.get(timeout=5) == ("after release", True, True)
    for process in (holder, waiter):
        process.join(START)
        assert process.exitcode == 0


def add_under_lock(url: str, name: str, counter: str, rounds: int, start) -> None:
    """Child process: read-modify-write a counter `rounds` times, each under the lock."""
    factory = RedisLockFactory(url=url, poll_interval=0.001)
    client = factory.client
    start.wait(START)
    for _ in range(rounds):
        with factory(name, ttl=5):
            value = int(client.get(counter) or 0)
            client.set(counter, value + 1)


def test_lock_serialises_read_modify_write_from_two_processes(infra_settings):
    url, name, counter = infra_settings.redis_url, unique("counter-lock"), unique("counter")
    start = SPAWN.Barrier(3)  # both workers and this test: the rounds begin together
    workers = [
        SPAWN.Process(target=add_under_lock, args=(url, name, counter, 25, start), daemon=True)
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    start.wait(START)
    for worker in workers:
        worker.join(START)
        assert worker.exitcode == 0
    client = RedisLockFactory(url=url).client
    try:
        assert client.get(counter) == "50"
    finally:
        client.delete(counter)
