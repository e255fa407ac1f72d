"""Cache port: string values under string keys, with optional time-to-live and counters."""

from __future__ import annotations

import abc
import json
from collections.abc import Sequence
from typing import Any

from shared.errors import ValidationError

MAX_KEY_BYTES = 512


def validate_key(key: str) -> str:
    """Return a non-empty key of at most MAX_KEY_BYTES without whitespace or control chars."""
    if not isinstance(key, str) or not key or len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise ValidationError(f"cache key must be 1-{MAX_KEY_BYTES} bytes")
    if any(c.isspace() or ord(c) < 32 for c in key):
        raise ValidationError(f"cache key {key!r} contains whitespace or control characters")
    return key


def validate_ttl(ttl: float | None) -> int | None:
    """Return a time-to-live in whole milliseconds (None: no expiry); it must be positive."""
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl <= 0:
        raise ValidationError(f"cache ttl must be a positive number of seconds, got {ttl!r}")
    return max(1, round(ttl * 1000))


def validate_value(value: str) -> str:
    """Return a string value; the cache stores text, callers serialise anything else."""
    if not isinstance(value, str):
        raise ValidationError(f"cache values are strings, got {type(value).__name__}")
    return value


class Cache(abc.ABC):
    """Key-value cache with per-key expiry."""

    @abc.abstractmethod
    def get(self, key: str) -> str | None:
        """Return the value under key, or None when missing or expired."""

    @abc.abstractmethod
    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        """Store value under key, expiring after ttl seconds (None: never)."""

    @abc.abstractmethod
    def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        """Store value only when key is absent; return whether it was stored."""

    @abc.abstractmethod
    def delete(self, key: str) -> bool:
        """Remove key; return whether it existed."""

    @abc.abstractmethod
    def incr(self, key: str, amount: int = 1) -> int:
        """Add amount to the integer under key (missing counts as 0) and return the result."""

    @abc.abstractmethod
    def ttl(self, key: str) -> float | None:
        """Return the seconds key has left, or None when it has no expiry or is missing."""

    def get_many(self, keys: Sequence[str]) -> dict[str, str | None]:
        """Return every key's value, None when missing or expired (one round trip on Redis)."""
        return {key: self.get(key) for key in keys}

    def get_json(self, key: str) -> Any:
        """Return the JSON value under key, or None."""
        text = self.get(key)
        return None if text is None else json.loads(text)

    def get_many_json(self, keys: Sequence[str]) -> dict[str, Any]:
        """Return every key's JSON value, None when missing or expired."""
        found = self.get_many(keys)
        return {key: None if text is None else json.loads(text) for key, text in found.items()}

    def set_json(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store value as compact JSON under key."""
        self.set(key, json.dumps(value, separators=(",", ":"), sort_keys=True), ttl)
