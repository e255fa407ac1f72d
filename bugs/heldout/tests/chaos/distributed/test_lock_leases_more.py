"""Held-out: lock ownership and lease lengths with other owners, names and durations."""

from __future__ import annotations

import pytest

from shared.utils.distributed import InMemoryLockFactory, LockNotOwnedError
from shared.utils.timeutils import FakeClock

pytestmark = pytest.mark.training


def test_a_third_handle_with_its_own_token_can_neither_release_nor_renew():
    locks = InMemoryLockFactory(clock=FakeClock())
    holder, other, another = locks("shard-3", ttl=40), locks("shard-3", ttl=40), locks("shard-3")
    assert holder.acquire(timeout=0)
    assert not other.extend() and not another.extend()
    for handle in (other, another):
        with pytest.raises(LockNotOwnedError):
            handle.release()
    assert holder.owner() == holder.token and holder.held()


def test_lease_lengths_in_fractions_and_minutes_expire_on_time():
    clock = FakeClock()
    locks = InMemoryLockFactory(clock=clock)
    for name, ttl in [("a", 0.25), ("b", 90.0), ("c", 7.5)]:
        lock = locks(name, ttl=ttl)
        assert lock.acquire(timeout=0)
        clock.advance(ttl * 0.99)
        assert locks(name).owner() == lock.token
        clock.advance(ttl * 0.02)
        assert locks(name).owner() is None
        assert locks(name, ttl=ttl).acquire(timeout=0)


def test_lock_used_as_a_context_is_free_after_any_exception_type():
    locks = InMemoryLockFactory(clock=FakeClock())
    for error in (KeyError, RuntimeError, ZeroDivisionError):
        with pytest.raises(error), locks("export", ttl=60):
            raise error("boom")
        follower = locks("export", ttl=60)
        assert follower.acquire(timeout=0)
        follower.release()
