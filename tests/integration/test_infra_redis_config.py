"""Redis settings: URLs become client options (database, TLS, timeouts, decoding) or errors."""

from __future__ import annotations

import pytest
import redis

from shared.backends import create
from shared.cache.redis import RedisCache, make_redis_client, redis_client_options
from shared.errors import ServiceUnavailableError, ValidationError
from shared.infra_settings import InfraSettings
from tests.utils.infra import Recorder, clear_infra_env

pytestmark = pytest.mark.inference


@pytest.fixture(autouse=True)
def default_environment(monkeypatch):
    clear_infra_env(monkeypatch)


def pool_kwargs(url: str, **settings) -> dict:
    client = make_redis_client(InfraSettings(redis_url=url, **settings))
    return client.connection_pool.connection_kwargs


def test_url_database_index_selects_the_database():
    kwargs = pool_kwargs("redis://cache.internal:6380/3")
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("cache.internal", 6380, 3)


def test_client_decodes_replies_and_bounds_every_wait():
    kwargs = pool_kwargs("redis://localhost/0", redis_socket_timeout=1.5)
    assert kwargs["decode_responses"] is True
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (1.5, 2.0)


def test_credentials_are_unquoted_and_rediss_turns_on_tls():
    options = redis_client_options("rediss://worker:p%40ss@cache:6390/2")
    assert (options["username"], options["password"]) == ("worker", "p@ss")
    assert (options["ssl"], options["port"], options["db"]) == (True, 6390, 2)
    client = make_redis_client(InfraSettings(redis_url="rediss://cache:6390/2"))
    assert client.connection_pool.connection_class is redis.SSLConnection


def test_unix_socket_url_takes_the_database_from_the_query():
    options = redis_client_options("unix:///run/redis.sock?db=4")
    assert (options["unix_socket_path"], options["db"]) == ("/run/redis.sock", 4)
    assert "host" not in options


def test_url_without_database_uses_database_zero_and_default_port():
    options = redis_client_options("redis://cache")
    assert (options["port"], options["db"]) == (6379, 0)


@pytest.mark.parametrize(
    "url",
    ["http://localhost:6379/0", "localhost:6379", "redis://localhost:6379/one", "redis://h:x/0"],
)
def test_malformed_urls_are_refused_naming_the_setting(url):
    with pytest.raises(ValidationError) as info:
        redis_client_options(url)
    assert url in info.value.message


def test_cache_keys_carry_the_prefix():
    client = Recorder({"get": "v3", "incrby": 4})
    cache = RedisCache(client, prefix="tenant:")
    assert cache.get("model:iris") == "v3"
    assert cache.incr("hits", 2) == 4
    assert client.called("get") == [(("tenant:model:iris",), {})]
    assert client.called("incrby") == [(("tenant:hits", 2), {})]


def test_cache_errors_map_to_platform_errors():
    refused = RedisCache(Recorder({"incrby": redis.ResponseError("not an integer")}))
    with pytest.raises(ValidationError):
        refused.incr("name")
    down = RedisCache(Recorder({"get": redis.ConnectionError("refused")}))
    with pytest.raises(ServiceUnavailableError):
        down.get("k")


def test_cache_factory_builds_a_redis_cache_from_settings():
    cache = create("cache", "redis", InfraSettings(redis_url="redis://cache:6379/5"))
    assert isinstance(cache, RedisCache)
    assert cache.client.connection_pool.connection_kwargs["db"] == 5
