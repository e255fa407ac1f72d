"""In-memory cache with per-key expiry measured by an injected clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from typing_extensions import override

from shared.cache.base import Cache, validate_key, validate_ttl, validate_value
from shared.errors import ValidationError


class InMemoryCache(Cache):
    """Thread-safe cache in a dict; expired keys vanish on the next access."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._items: dict[str, tuple[str, float | None]] = {}

    @override
    def get(self, key: str) -> str | None:
        with self._lock:
            item = self._live(validate_key(key))
            return None if item is None else item[0]

    @override
    def get_many(self, keys: Sequence[str]) -> dict[str, str | None]:
        names = [validate_key(key) for key in keys]
        with self._lock:
            items = {name: self._live(name) for name in names}
        return {name: None if item is None else item[0] for name, item in items.items()}

    @override
    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        ttl_ms = validate_ttl(ttl)
        with self._lock:
            self._items[validate_key(key)] = (validate_value(value), self._expiry(ttl_ms))

    @override
    def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        ttl_ms = validate_ttl(ttl)
        with self._lock:
            if self._live(validate_key(key)) is not None:
                return False
            self._items[key] = (validate_value(value), self._expiry(ttl_ms))
            return True

    @override
    def delete(self, key: str) -> bool:
        with self._lock:
            existed = self._live(validate_key(key)) is not None
            self._items.pop(key, None)
            return existed

    @override
    def incr(self, key: str, amount: int = 1) -> int:
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise ValidationError("incr amount must be an integer")
        with self._lock:
            value, expires = self._live(validate_key(key)) or ("0", None)
            try:
                total = int(value) + amount
            except ValueError:
                raise ValidationError(f"value of {key!r} is not an integer") from None
            self._items[key] = (str(total), expires)
            return total

    @override
    def ttl(self, key: str) -> float | None:
        with self._lock:
            item = self._live(validate_key(key))
            if item is None or item[1] is None:
                return None
            return round((item[1] - self.clock()) * 1000) / 1000

    def _expiry(self, ttl_ms: int | None) -> float | None:
        return None if ttl_ms is None else self.clock() + ttl_ms / 1000

    def _live(self, key: str) -> tuple[str, float | None] | None:
        item = self._items.get(key)
        if item is not None and item[1] is not None and item[1] <= self.clock():
            del self._items[key]
            return None
        return item
