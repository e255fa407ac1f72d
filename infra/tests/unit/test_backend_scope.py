"""Which backends are shared between processes, and what a service says about them at start."""

from __future__ import annotations

import logging

import pytest

from services.inference.registry_cache import cache_guard
from shared.backend_scope import BackendScopeError, Guard, Scope, announce, scope_of, statement
from shared.cache.memory import InMemoryCache
from shared.cache.redis import RedisCache
from shared.infra_settings import InfraSettings
from shared.utils.distributed import InMemoryLockFactory, RedisLockFactory


class CountingLocks(InMemoryLockFactory):
    """A test double that derives from the in-memory factory."""


class RemoteLocks:
    """An adapter of no registered backend that says where its state lives."""

    process_local = False


def guard(scope: Scope, *, many: bool) -> Guard:
    return Guard("svc", "the thing lock", scope, many_processes=many, where="work runs here")


def test_in_memory_adapters_and_their_subclasses_are_process_local():
    assert scope_of("locks", InMemoryLockFactory()) == Scope("locks", "memory", True)
    assert scope_of("locks", CountingLocks()).process_local
    assert scope_of("cache", InMemoryCache()) == Scope("cache", "memory", True)


def test_redis_adapters_are_shared_without_connecting():
    assert scope_of("locks", RedisLockFactory(client=object())) == Scope("locks", "redis", False)
    assert not scope_of("cache", RedisCache(object())).process_local


def test_an_unregistered_adapter_is_taken_at_its_word():
    assert scope_of("locks", RemoteLocks()) == Scope("locks", "RemoteLocks", False)


def test_without_an_adapter_the_configured_backend_decides():
    assert scope_of("locks", None, InfraSettings(locks_backend="memory")).process_local
    assert not scope_of("locks", None, InfraSettings(locks_backend="redis")).process_local


def test_process_local_guard_of_single_process_work_warns_and_says_why(caplog):
    with caplog.at_level(logging.INFO, logger="synapse.backends"):
        text = announce(guard(Scope("locks", "memory", True), many=False))
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [(logging.WARNING, text)]
    assert "locks backend 'memory' (this process only)" in text
    assert "safe only while work runs here" in text


def test_shared_guard_is_stated_at_info(caplog):
    with caplog.at_level(logging.INFO, logger="synapse.backends"):
        text = announce(guard(Scope("locks", "redis", False), many=True))
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [(logging.INFO, text)]
    assert text == (
        "svc: the thing lock uses locks backend 'redis' (shared by every process); "
        "safe: work runs here"
    )


def test_process_local_guard_of_multi_process_work_refuses_to_start(caplog):
    with pytest.raises(BackendScopeError) as refused:
        announce(guard(Scope("cache", "memory", True), many=True))
    assert "SYNAPSE_CACHE_BACKEND=redis" in refused.value.message
    assert "refusing to start" in refused.value.message
    assert refused.value.details == {"port": "cache", "backend": "memory"}
    assert statement(guard(Scope("cache", "memory", True), many=True)) in refused.value.message


def test_a_copy_per_process_that_is_correct_by_design_is_stated_without_a_warning(caplog):
    per_process = Guard(
        "svc", "the lookups", Scope("cache", "memory", True), True, "keys name it", per_process=True
    )
    with caplog.at_level(logging.INFO, logger="synapse.backends"):
        text = announce(per_process)
    assert [r.levelno for r in caplog.records] == [logging.INFO]
    assert text.endswith("(this process only); safe per process: keys name it")


def test_inference_states_its_registry_cache_as_correct_per_replica():
    guard = cache_guard(InMemoryCache())
    assert (guard.scope, guard.per_process, guard.unsafe) == (
        Scope("cache", "memory", True),
        True,
        False,
    )
    assert not cache_guard(RedisCache(object())).scope.process_local
