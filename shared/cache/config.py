"""The table of cache backends and the factory that builds one from settings."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from shared.cache.base import Cache
from shared.errors import ValidationError
from shared.infra_settings import InfraSettings

# Configured backend name -> "module:class" of the adapter, imported only when chosen.
CACHE_BACKENDS: dict[str, str] = {
    "memory": "shared.cache.memory:InMemoryCache",
    "redis": "shared.cache.redis:RedisCache",
}


def create_cache(kind: str = "redis", settings: InfraSettings | None = None) -> Cache:
    """Build the cache configured by its short name ("memory" or "redis")."""
    try:
        module_name, attr = CACHE_BACKENDS[kind].split(":")
    except KeyError:
        raise ValidationError(
            f"unknown cache backend {kind!r}", details={"choices": sorted(CACHE_BACKENDS)}
        ) from None
    module = importlib.import_module(module_name)
    cache_cls: Callable[..., Cache] = getattr(module, attr)
    if kind == "memory":
        return cache_cls()
    return cache_cls(module.make_redis_client(settings))
