"""Redis adapter of the cache port, and the one place Redis URLs become client options."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import redis
from typing_extensions import override

from shared.cache.base import Cache, validate_key, validate_ttl, validate_value
from shared.errors import ServiceUnavailableError, ValidationError
from shared.infra_settings import InfraSettings, get_infra_settings

REDIS_SCHEMES = ("redis", "rediss", "unix")
DEFAULT_PORT = 6379


class CacheUnavailableError(ServiceUnavailableError):
    """Raised when the Redis server fails or cannot be reached."""

    code = "cache_unavailable"


def _database_index(text: str, url: str) -> int:
    if not text.isdigit():
        raise ValidationError(
            f"Redis URL {url!r} has database index {text!r}; use a number such as /0",
            details={"setting": "SYNAPSE_REDIS_URL"},
        )
    return int(text)


def redis_client_options(
    url: str, *, socket_timeout: float = 2.0, connect_timeout: float = 2.0
) -> dict[str, Any]:
    """Return redis.Redis keyword arguments for a redis://, rediss:// or unix:// URL."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in REDIS_SCHEMES:
        raise ValidationError(
            f"Redis URL {url!r} must start with redis://, rediss:// or unix://",
            details={"setting": "SYNAPSE_REDIS_URL", "scheme": parts.scheme},
        )
    query = dict(parse_qsl(parts.query))
    options: dict[str, Any] = {
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": connect_timeout,
        "decode_responses": True,
        "health_check_interval": 30,
    }
    if scheme == "unix":
        if not parts.path:
            raise ValidationError(f"Redis URL {url!r} needs a socket path")
        options["unix_socket_path"] = unquote(parts.path)
        options["db"] = _database_index(query.get("db", "0"), url)
        return options
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ValidationError(f"Redis URL {url!r} has an invalid port") from None
    options.update(
        host=parts.hostname or "localhost",
        port=port,
        db=_database_index(parts.path.strip("/") or query.get("db", "0"), url),
        ssl=scheme == "rediss",
    )
    return options


def make_redis_client(
    settings: InfraSettings | None = None,
    *,
    url: str | None = None,
    client_class: Callable[..., Any] = redis.Redis,
) -> Any:
    """Build a Redis client from SYNAPSE_REDIS_URL (or url); building it does not connect."""
    settings = settings or get_infra_settings()
    options = redis_client_options(
        url or settings.redis_url,
        socket_timeout=settings.redis_socket_timeout,
        connect_timeout=settings.redis_connect_timeout,
    )
    return client_class(**options)


class RedisCache(Cache):
    """Cache on a Redis server; keys carry a prefix so several tenants share one database."""

    def __init__(self, client: Any = None, *, prefix: str = "synapse:cache:") -> None:
        self._client = client
        self.prefix = prefix

    @property
    def client(self) -> Any:
        """Return the Redis client, built from the settings on first use."""
        if self._client is None:
            self._client = make_redis_client()
        return self._client

    @override
    def get(self, key: str) -> str | None:
        with _errors():
            value: str | None = self.client.get(self._key(key))
            return value

    @override
    def get_many(self, keys: Sequence[str]) -> dict[str, str | None]:
        names = [self._key(key) for key in keys]
        if not names:
            return {}
        with _errors():
            values = self.client.mget(names)
        return dict(zip(keys, values, strict=True))

    @override
    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        ttl_ms, value = validate_ttl(ttl), validate_value(value)
        with _errors():
            self.client.set(self._key(key), value, px=ttl_ms)

    @override
    def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        ttl_ms, value = validate_ttl(ttl), validate_value(value)
        with _errors():
            return bool(self.client.set(self._key(key), value, px=ttl_ms, nx=True))

    @override
    def delete(self, key: str) -> bool:
        with _errors():
            return bool(self.client.delete(self._key(key)))

    @override
    def incr(self, key: str, amount: int = 1) -> int:
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise ValidationError("incr amount must be an integer")
        with _errors():
            return int(self.client.incrby(self._key(key), amount))

    @override
    def ttl(self, key: str) -> float | None:
        with _errors():
            remaining = self.client.pttl(self._key(key))
        return None if remaining is None or remaining < 0 else remaining / 1000

    def _key(self, key: str) -> str:
        return self.prefix + validate_key(key)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn Redis errors into the platform's: a wrong type is a 422, anything else a 503."""
    try:
        yield
    except redis.ResponseError as exc:
        raise ValidationError(f"Redis refused the command: {exc}") from exc
    except redis.RedisError as exc:
        raise CacheUnavailableError(f"Redis is unavailable: {exc}") from exc
