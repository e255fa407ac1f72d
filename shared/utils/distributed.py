"""Distributed locks with owner tokens and leases: an in-memory and a Redis implementation."""

from __future__ import annotations

import abc
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import redis
from typing_extensions import override

from shared.errors import ConflictError, ServiceUnavailableError, ValidationError

Clock = Callable[[], float]

DEFAULT_TTL = 30.0


class LockNotOwnedError(ConflictError):
    """Raised when a lock is released or extended by someone who does not hold it."""

    code = "lock_not_owned"


class LockTimeoutError(ServiceUnavailableError):
    """Raised when a lock used as a context manager cannot be acquired in time."""

    code = "lock_timeout"


class LockBackendUnavailableError(ServiceUnavailableError):
    """Raised when the lock backend cannot be reached: no lock can be taken or given back."""

    code = "lock_backend_unavailable"


def ttl_to_ms(ttl: float) -> int:
    """Convert a lease length in seconds to whole milliseconds."""
    if ttl is None or ttl <= 0:
        raise ValidationError(f"lock ttl must be positive, got {ttl!r}")
    return max(1, round(ttl * 1000))


class DistributedLock(abc.ABC):
    """A named mutual-exclusion lease held by one owner token until released or expired."""

    def __init__(self, name: str, ttl: float = DEFAULT_TTL, *, token: str | None = None) -> None:
        if not name:
            raise ValidationError("lock name must not be empty")
        self.name = name
        self.ttl_ms = ttl_to_ms(ttl)
        self.token = token or uuid.uuid4().hex
        self.context_timeout: float | None = None

    @abc.abstractmethod
    def acquire(self, timeout: float | None = None) -> bool:
        """Take the lease; block up to `timeout` seconds (None: forever, 0: one try)."""

    @abc.abstractmethod
    def release(self) -> None:
        """Give the lease back; raise LockNotOwnedError unless this owner holds it."""

    @abc.abstractmethod
    def extend(self) -> bool:
        """Restart the lease for another full TTL if this owner still holds it."""

    @abc.abstractmethod
    def owner(self) -> str | None:
        """Return the token of the current holder, or None when the lock is free."""

    def held(self) -> bool:
        """Return whether this owner currently holds a live lease."""
        return self.owner() == self.token

    def __enter__(self) -> DistributedLock:
        if not self.acquire(self.context_timeout):
            raise LockTimeoutError(f"could not acquire lock {self.name!r}")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, token={self.token[:8]}…)"


class LockFactory(abc.ABC):
    """Make locks by name: `factory(name, ttl)` returns a DistributedLock."""

    @abc.abstractmethod
    def __call__(self, name: str, ttl: float = DEFAULT_TTL) -> DistributedLock:
        """Return a new lock handle with its own owner token."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise LockBackendUnavailableError unless locks can be taken now."""


class InMemoryLockFactory(LockFactory):
    """Thread-safe locks within one process; lease expiry is measured by the injected clock."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._cond = threading.Condition()
        self._leases: dict[str, tuple[str, float]] = {}

    @override
    def __call__(self, name: str, ttl: float = DEFAULT_TTL) -> InMemoryLock:
        return InMemoryLock(self, name, ttl)

    @override
    def ping(self) -> None:
        return None

    def _live_lease(self, name: str) -> tuple[str, float] | None:
        lease = self._leases.get(name)
        if lease is not None and lease[1] <= self.clock():
            del self._leases[name]
            self._cond.notify_all()
            return None
        return lease

    def _try_take(self, name: str, token: str, ttl_ms: int) -> bool:
        if self._live_lease(name) is not None:
            return False
        self._leases[name] = (token, self.clock() + ttl_ms / 1000)
        return True

    def _wait_slice(self, name: str, deadline: float | None) -> float | None:
        """Return how long to wait before re-checking: until the deadline or the lease end."""
        lease = self._leases.get(name)
        until_expiry = None if lease is None else max(lease[1] - self.clock(), 0.001)
        if deadline is None:
            return until_expiry
        remaining = deadline - time.monotonic()
        return remaining if until_expiry is None else min(remaining, until_expiry)

    def acquire(self, lock: InMemoryLock, timeout: float | None) -> bool:
        """Take `lock`'s lease, waiting on the condition until it frees or time runs out."""
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        with self._cond:
            while not self._try_take(lock.name, lock.token, lock.ttl_ms):
                wait = self._wait_slice(lock.name, deadline)
                if wait is not None and wait <= 0:
                    return False
                self._cond.wait(wait)
            return True

    def release(self, lock: InMemoryLock) -> None:
        """Drop `lock`'s lease and wake any waiters."""
        with self._cond:
            lease = self._live_lease(lock.name)
            if lease is None or lease[0] != lock.token:
                raise LockNotOwnedError(f"lock {lock.name!r} is not held by this owner")
            del self._leases[lock.name]
            self._cond.notify_all()

    def extend(self, lock: InMemoryLock) -> bool:
        """Restart `lock`'s lease for a full TTL when its token still holds it."""
        with self._cond:
            lease = self._live_lease(lock.name)
            if lease is None or lease[0] != lock.token:
                return False
            self._leases[lock.name] = (lock.token, self.clock() + lock.ttl_ms / 1000)
            return True

    def owner(self, name: str) -> str | None:
        """Return the token holding `name`, or None."""
        with self._cond:
            lease = self._live_lease(name)
            return None if lease is None else lease[0]


class InMemoryLock(DistributedLock):
    """A lock handle backed by an InMemoryLockFactory's lease table."""

    def __init__(self, factory: InMemoryLockFactory, name: str, ttl: float) -> None:
        super().__init__(name, ttl)
        self._factory = factory

    @override
    def acquire(self, timeout: float | None = None) -> bool:
        return self._factory.acquire(self, timeout)

    @override
    def release(self) -> None:
        self._factory.release(self)

    @override
    def extend(self) -> bool:
        return self._factory.extend(self)

    @override
    def owner(self) -> str | None:
        return self._factory.owner(self.name)


# Delete or re-arm the key only when it still holds this owner's token (atomic on the server).
_RELEASE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""
_EXTEND_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


class RedisLockFactory(LockFactory):
    """Locks stored as Redis keys: SET NX PX to take, compare-and-delete Lua to release."""

    def __init__(
        self,
        client: Any = None,
        *,
        url: str = "redis://localhost:6379/0",
        prefix: str = "synapse:lock:",
        poll_interval: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self.url = url
        self.prefix = prefix
        self.poll_interval = poll_interval
        self.sleep = sleep

    @property
    def client(self) -> Any:
        """Return the Redis client, built from ``url`` on first use (it connects lazily)."""
        if self._client is None:
            from shared.cache.redis import make_redis_client

            self._client = make_redis_client(url=self.url)
        return self._client

    @override
    def __call__(self, name: str, ttl: float = DEFAULT_TTL) -> RedisLock:
        return RedisLock(self, name, ttl)

    @override
    def ping(self) -> None:
        with _reaching():
            self.client.ping()


class RedisLock(DistributedLock):
    """A lock handle whose lease is a Redis key holding the owner token."""

    def __init__(self, factory: RedisLockFactory, name: str, ttl: float) -> None:
        super().__init__(name, ttl)
        self._factory = factory
        self.key = factory.prefix + name

    @override
    def acquire(self, timeout: float | None = None) -> bool:
        client, deadline = self._factory.client, None
        if timeout is not None:
            deadline = time.monotonic() + max(timeout, 0.0)
        while not self._take(client):
            if deadline is not None and time.monotonic() >= deadline:
                return False
            self._factory.sleep(self._factory.poll_interval)
        return True

    @override
    def release(self) -> None:
        with _reaching():
            released = self._factory.client.eval(_RELEASE_SCRIPT, 1, self.key, self.token)
        if not released:
            raise LockNotOwnedError(f"lock {self.name!r} is not held by this owner")

    @override
    def extend(self) -> bool:
        client = self._factory.client
        with _reaching():
            return bool(client.eval(_EXTEND_SCRIPT, 1, self.key, self.token, self.ttl_ms))

    @override
    def owner(self) -> str | None:
        with _reaching():
            value = self._factory.client.get(self.key)
        return value.decode() if isinstance(value, bytes) else value

    def _take(self, client: Any) -> bool:
        with _reaching():
            return bool(client.set(self.key, self.token, nx=True, px=self.ttl_ms))


@contextmanager
def _reaching() -> Iterator[None]:
    """Turn any Redis failure into a 503: a lock nobody can read is a backend outage."""
    try:
        yield
    except redis.RedisError as exc:
        raise LockBackendUnavailableError(f"the lock backend is unavailable: {exc}") from exc
