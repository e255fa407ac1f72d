"""One loader for every infrastructure port: backend tables, typed choice, cached getters.

Each port has one table from a short backend name to the adapter's import path; the name is
chosen by one ``SYNAPSE_<PORT>_BACKEND`` variable of ``InfraSettings``. ``create`` builds a new
adapter, the ``get_*`` functions return the process-wide one (built on first use, forgotten by
``reset_backends``), and ``use_backend`` installs a given instance (tests, live checks).
In-process backends are provisioned on creation (topics, buckets, indices), because no
bootstrap ever runs against them; real servers are provisioned by ``python -m shared.bootstrap``.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from shared.cache.base import Cache
from shared.clients.consul import ServiceRegistry
from shared.errors import ValidationError
from shared.events.base import EventBus
from shared.infra_settings import InfraSettings, get_infra_settings
from shared.search.base import SearchIndex
from shared.storage.base import ObjectStore
from shared.utils.distributed import LockFactory

T = TypeVar("T")
Options = Callable[[InfraSettings], dict[str, Any]]

# Port -> backend name -> "module:attribute" of the adapter, imported only when chosen.
BACKENDS: dict[str, dict[str, str]] = {
    "events": {
        "memory": "shared.events.memory:InMemoryEventBus",
        "kafka": "shared.events.kafka:KafkaEventBus",
    },
    "cache": {
        "memory": "shared.cache.memory:InMemoryCache",
        "redis": "shared.cache.redis:RedisCache",
    },
    "storage": {
        "memory": "shared.storage.memory:InMemoryObjectStore",
        "s3": "shared.storage.minio:MinioObjectStore",
    },
    "search": {
        "memory": "shared.search.memory:InMemorySearchIndex",
        "elasticsearch": "shared.search.elasticsearch:ElasticsearchSearchIndex",
    },
    "discovery": {
        "static": "shared.clients.consul:InMemoryServiceRegistry",
        "consul": "shared.clients.consul:ConsulServiceRegistry",
    },
    "locks": {
        "memory": "shared.utils.distributed:InMemoryLockFactory",
        "redis": "shared.utils.distributed:RedisLockFactory",
    },
}


def _redis_client(settings: InfraSettings) -> dict[str, Any]:
    from shared.cache.redis import make_redis_client

    return {"client": make_redis_client(settings)}


def _kafka(settings: InfraSettings) -> dict[str, Any]:
    return {
        "bootstrap_servers": settings.kafka_servers(),
        "client_id": settings.kafka_client_id,
        "replication_factor": settings.kafka_replication_factor,
    }


def _s3(settings: InfraSettings) -> dict[str, Any]:
    return {
        "endpoint": settings.s3_endpoint,
        "access_key": settings.s3_access_key,
        "secret_key": settings.s3_secret_key,
        "secure": settings.s3_secure,
        "region": settings.s3_region,
    }


def _elasticsearch(settings: InfraSettings) -> dict[str, Any]:
    return {"url": settings.elasticsearch_url, "request_timeout": settings.elasticsearch_timeout}


def _consul(settings: InfraSettings) -> dict[str, Any]:
    return {
        "host": settings.consul_host,
        "port": settings.consul_port,
        "scheme": settings.consul_scheme,
    }


# Constructor arguments of the backends that talk to a server; the others take none.
OPTIONS: dict[tuple[str, str], Options] = {
    ("events", "kafka"): _kafka,
    ("cache", "redis"): _redis_client,
    ("storage", "s3"): _s3,
    ("search", "elasticsearch"): _elasticsearch,
    ("discovery", "consul"): _consul,
    ("locks", "redis"): _redis_client,
}


def _provision_memory(port: str, adapter: Any) -> None:
    """Create what bootstrap creates on real servers, inside a fresh in-process adapter."""
    if port == "events":
        from shared.events.schema import ensure_topics

        ensure_topics(adapter)
    elif port == "storage":
        from shared.storage.bootstrap import ensure_buckets

        ensure_buckets(adapter)
    elif port == "search":
        from shared.search.bootstrap import ensure_indices

        ensure_indices(adapter)


def backend_name(port: str, settings: InfraSettings | None = None) -> str:
    """Return the backend name configured for a port (SYNAPSE_<PORT>_BACKEND)."""
    table = _table(port)
    name = str(getattr(settings or get_infra_settings(), f"{port}_backend"))
    if name not in table:
        raise ValidationError(
            f"unknown {port} backend {name!r}; SYNAPSE_{port.upper()}_BACKEND must be one of "
            f"{', '.join(sorted(table))}",
            details={"port": port, "choices": sorted(table)},
        )
    return name


def load_class(port: str, name: str) -> Callable[..., Any]:
    """Return the adapter class registered for a port under name, importing it on demand."""
    table = _table(port)
    target = table.get(name)
    if target is None:
        raise ValidationError(
            f"unknown {port} backend {name!r}; choose one of {', '.join(sorted(table))}",
            details={"port": port, "choices": sorted(table)},
        )
    module_name, attr = target.split(":")
    return cast(Callable[..., Any], getattr(importlib.import_module(module_name), attr))


def create(port: str, name: str | None = None, settings: InfraSettings | None = None) -> Any:
    """Build a new adapter for a port: the named backend, else the configured one."""
    settings = settings or get_infra_settings()
    name = name if name is not None else backend_name(port, settings)
    adapter_class = load_class(port, name)
    options = OPTIONS.get((port, name))
    adapter = adapter_class(**(options(settings) if options else {}))
    if name == "memory":
        _provision_memory(port, adapter)
    return adapter


def _table(port: str) -> dict[str, str]:
    table = BACKENDS.get(port)
    if table is None:
        raise ValidationError(f"unknown port {port!r}", details={"choices": sorted(BACKENDS)})
    return table


class _Registry:
    """The process-wide adapters, one per port, built on first use under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._adapters: dict[str, Any] = {}

    def get(self, port: str) -> Any:
        with self._lock:
            adapter = self._adapters.get(port)
            if adapter is None:
                adapter = self._adapters[port] = create(port)
            return adapter

    def put(self, port: str, adapter: Any) -> Any:
        _table(port)
        with self._lock:
            previous = self._adapters.get(port)
            self._adapters[port] = adapter
            return previous

    def pop(self, port: str) -> Any:
        with self._lock:
            return self._adapters.pop(port, None)

    def clear(self) -> list[Any]:
        with self._lock:
            adapters = list(self._adapters.values())
            self._adapters.clear()
            return adapters


_REGISTRY = _Registry()


def get_bus() -> EventBus:
    """Return the process-wide event bus."""
    return cast(EventBus, _REGISTRY.get("events"))


def get_cache() -> Cache:
    """Return the process-wide cache."""
    return cast(Cache, _REGISTRY.get("cache"))


def get_storage() -> ObjectStore:
    """Return the process-wide object store."""
    return cast(ObjectStore, _REGISTRY.get("storage"))


def get_search() -> SearchIndex:
    """Return the process-wide search index."""
    return cast(SearchIndex, _REGISTRY.get("search"))


def get_discovery() -> ServiceRegistry:
    """Return the process-wide service registry."""
    return cast(ServiceRegistry, _REGISTRY.get("discovery"))


def get_locks() -> LockFactory:
    """Return the process-wide lock factory."""
    return cast(LockFactory, _REGISTRY.get("locks"))


def reset_backends() -> None:
    """Close and forget every adapter and the settings; the next getter re-reads both."""
    get_infra_settings.cache_clear()
    for adapter in _REGISTRY.clear():
        close = getattr(adapter, "close", None)
        if callable(close):
            close()


@contextmanager
def use_backend(port: str, adapter: T) -> Iterator[T]:
    """Serve ``adapter`` as the process-wide one for a port inside the block."""
    previous = _REGISTRY.put(port, adapter)
    try:
        yield adapter
    finally:
        if previous is None:
            _REGISTRY.pop(port)
        else:
            _REGISTRY.put(port, previous)


@dataclass(frozen=True)
class Ports:
    """The process-wide adapters, for code outside FastAPI (DRF views, Celery tasks)."""

    bus: EventBus
    cache: Cache
    storage: ObjectStore
    search: SearchIndex


def ports() -> Ports:
    """Return the process-wide bus, cache, store and index (the helper for DRF and Celery)."""
    return Ports(bus=get_bus(), cache=get_cache(), storage=get_storage(), search=get_search())
