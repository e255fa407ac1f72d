"""Registry lookups through the cache port: version records cached under version-aware keys.

A version's record is read on every deploy and on every promotion the service follows; the
cache keeps it across replicas. Keys name the model and the version, so a new version is
never served from an older entry; promotion events invalidate the versions they touch.
"""

from __future__ import annotations

import json
from typing import Any

from shared.cache.base import Cache
from shared.clients.registry import RegistryClient
from shared.errors import SynapseError

KEY_PREFIX = "inference:registry:"
DEFAULT_TTL = 300.0


def record_key(name: str, version: int) -> str:
    """Return the cache key of one version's registry record."""
    return f"{KEY_PREFIX}{name}:v{version}"


class CachedRegistry(RegistryClient):
    """The registry client whose version lookups go through the cache first."""

    def __init__(self, registry: RegistryClient, cache: Cache, *, ttl: float = DEFAULT_TTL) -> None:
        super().__init__(registry.client)
        self.cache = cache
        self.ttl = ttl
        self.hits = 0
        self.misses = 0

    def get_version(self, name: str, version: int) -> dict[str, Any]:
        """Return a version's registry record, from the cache when present."""
        key = record_key(name, version)
        cached = self._read(key)
        if cached is not None:
            self.hits += 1
            return cached
        self.misses += 1
        record = super().get_version(name, version)
        self._write(key, record)
        return record

    def invalidate(self, name: str, version: int) -> bool:
        """Drop a version's cached record; return whether it was cached."""
        return self.cache.delete(record_key(name, version))

    def _read(self, key: str) -> dict[str, Any] | None:
        # A cache outage must not stop serving: fall back to the registry.
        try:
            text = self.cache.get(key)
        except SynapseError:
            return None
        value = None if text is None else json.loads(text)
        return value if isinstance(value, dict) else None

    def _write(self, key: str, record: dict[str, Any]) -> None:
        try:
            self.cache.set_json(key, record, ttl=self.ttl)
        except SynapseError:
            return
