"""Registry lookups through the cache port: version records cached under version-aware keys.

A version's record is read on every deploy and on every promotion the service follows; the
cache keeps it across replicas. Keys name the model and the version, so a new version is
never served from an older entry; promotion events invalidate the versions they touch.
A version the registry does not have is remembered for a short while too (``miss_ttl``), so
a deploy loop retrying an unknown version does not hammer the registry; registration events
drop that answer.
"""

from __future__ import annotations

import json
from typing import Any

from shared.backend_scope import Guard, scope_of
from shared.cache.base import Cache
from shared.clients.registry import RegistryClient
from shared.errors import NotFoundError, SynapseError

KEY_PREFIX = "inference:registry:"
DEFAULT_TTL = 300.0
DEFAULT_MISS_TTL = 30.0


def cache_guard(cache: Cache) -> Guard:
    """Return what inference states at start-up about the backend of its registry lookups."""
    # A copy per replica is correct: keys name the version, entries expire, and every replica
    # has a consumer group of its own, so each one sees every invalidation.
    return Guard(
        "inference",
        "the registry lookup cache",
        scope_of("cache", cache),
        many_processes=True,
        where="keys name the version, entries expire, each replica has its own invalidation group",
        per_process=True,
    )


def record_key(name: str, version: int) -> str:
    """Return the cache key of one version's registry record."""
    return f"{KEY_PREFIX}{name}:v{version}"


def missing_key(name: str, version: int) -> str:
    """Return the cache key remembering that the registry has no such version."""
    return f"{KEY_PREFIX}{name}:v{version}:missing"


class CachedRegistry(RegistryClient):
    """The registry client whose version lookups go through the cache first."""

    def __init__(
        self,
        registry: RegistryClient,
        cache: Cache,
        *,
        ttl: float = DEFAULT_TTL,
        miss_ttl: float = DEFAULT_MISS_TTL,
    ) -> None:
        super().__init__(registry.client)
        self.cache = cache
        self.ttl = ttl
        self.miss_ttl = miss_ttl
        self.hits = 0
        self.misses = 0

    def get_version(self, name: str, version: int) -> dict[str, Any]:
        """Return a version's registry record, from the cache when present."""
        key = record_key(name, version)
        cached = self._read(key)
        if cached is not None:
            self.hits += 1
            return cached
        missing = self._read(missing_key(name, version))
        if missing is not None:
            self.hits += 1
            raise NotFoundError(missing["detail"])
        self.misses += 1
        try:
            record = super().get_version(name, version)
        except NotFoundError as exc:
            self._write(missing_key(name, version), {"detail": exc.message}, self.miss_ttl)
            raise
        self._write(key, record, self.ttl)
        return record

    def invalidate(self, name: str, version: int) -> bool:
        """Drop a version's cached record; return whether it was cached."""
        return self.cache.delete(record_key(name, version))

    def forget_missing(self, name: str, version: int) -> bool:
        """Drop a cached "no such version" answer; return whether there was one."""
        return self.cache.delete(missing_key(name, version))

    def _read(self, key: str) -> dict[str, Any] | None:
        # A cache outage must not stop serving: fall back to the registry.
        try:
            text = self.cache.get(key)
        except SynapseError:
            return None
        value = None if text is None else json.loads(text)
        return value if isinstance(value, dict) else None

    def _write(self, key: str, record: dict[str, Any], ttl: float) -> None:
        try:
            self.cache.set_json(key, record, ttl=ttl)
        except SynapseError:
            return
