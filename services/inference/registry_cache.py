"""Registry lookups through the cache port: version records cached under version-aware keys.

A version's record is read on every deploy and on every promotion the service follows; the
cache keeps it across replicas. Keys name the model and the version, so a new version is
never served from an older entry; promotion events invalidate the versions they touch.
"""

from __future__ import annotations

import json
from typing import Any

from shared.cache.base import Cache
from shared.errors import SynapseError

VERSION_PATH = "/api/v1/registered-models/{name}/versions/{version}"
KEY_PREFIX = "inference:registry:"
DEFAULT_TTL = 300.0


def record_key(name: str, version: int) -> str:
    """Return the cache key of one version's registry record."""
    return f"{KEY_PREFIX}{name}:v{version}"


class CachedRegistry:
    """A registry client whose version lookups go through the cache; everything else passes."""

    def __init__(self, client: Any, cache: Cache, *, ttl: float = DEFAULT_TTL) -> None:
        self.client = client
        self.cache = cache
        self.ttl = ttl
        self.hits = 0
        self.misses = 0

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes this class lacks: get(), post(), close() ...
        return getattr(self.client, name)

    def version(self, name: str, version: int) -> dict[str, Any]:
        """Return a version's registry record, from the cache when present."""
        key = record_key(name, version)
        cached = self._read(key)
        if cached is not None:
            self.hits += 1
            return cached
        self.misses += 1
        record = self.client.get_json(VERSION_PATH.format(name=name, version=version))
        self._write(key, record)
        return record

    def get_json(self, path: str, **kw: Any) -> Any:
        """Answer version lookups from the cache; send any other GET to the registry."""
        parsed = _version_of(path)
        if parsed is None or kw:
            return self.client.get_json(path, **kw)
        return self.version(*parsed)

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

    def _write(self, key: str, record: Any) -> None:
        if not isinstance(record, dict):
            return
        try:
            self.cache.set_json(key, record, ttl=self.ttl)
        except SynapseError:
            return


def _version_of(path: str) -> tuple[str, int] | None:
    """Return (name, version) when path is exactly a version-record path, else None."""
    parts = path.strip("/").split("/")
    if len(parts) != 6 or parts[:3] != ["api", "v1", "registered-models"]:
        return None
    if parts[4] != "versions" or not parts[5].isdigit():
        return None
    return parts[3], int(parts[5])
