"""The backend loader: one table per port, typed choice, cached getters, discovery on start-up."""

from __future__ import annotations

import anyio
import pytest
from fastapi.testclient import TestClient

from shared import backends
from shared.cache.memory import InMemoryCache
from shared.cache.redis import RedisCache
from shared.clients.consul import ConsulServiceRegistry, InMemoryServiceRegistry
from shared.discovery import registration_for
from shared.errors import ValidationError
from shared.events.schema import PLATFORM_TOPICS
from shared.infra_settings import InfraSettings
from shared.search.elasticsearch import ElasticsearchSearchIndex
from shared.search.mappings import PLATFORM_INDICES
from shared.services import SERVICES
from shared.storage.bootstrap import PLATFORM_BUCKETS
from shared.storage.minio import MinioObjectStore
from shared.web import create_service_app

pytestmark = pytest.mark.inference


def test_every_port_has_its_backend_setting_with_an_in_process_default():
    defaults = InfraSettings.model_fields
    for port, table in backends.BACKENDS.items():
        assert defaults[f"{port}_backend"].default in table
        assert backends.backend_name(port, InfraSettings()) in ("memory", "static")


@pytest.mark.parametrize("port", sorted(backends.BACKENDS))
def test_an_unknown_backend_is_refused_naming_the_variable_and_the_choices(port):
    settings = InfraSettings(**{f"{port}_backend": "zookeeper"})
    with pytest.raises(ValidationError) as caught:
        backends.create(port, settings=settings)
    choices = sorted(backends.BACKENDS[port])
    assert f"SYNAPSE_{port.upper()}_BACKEND must be one of {', '.join(choices)}" in str(
        caught.value
    )
    assert caught.value.details["choices"] == choices


def test_an_unknown_port_is_refused():
    with pytest.raises(ValidationError, match="unknown port 'queue'"):
        backends.create("queue")


def test_real_backends_are_built_from_the_infrastructure_settings():
    settings = InfraSettings(
        redis_url="redis://cache:6390/4",
        redis_socket_timeout=0.7,
        redis_connect_timeout=0.3,
        s3_endpoint="s3.internal:9100",
        elasticsearch_url="http://search:9201",
        consul_host="agent",
        consul_port=8600,
    )
    cache = backends.create("cache", "redis", settings)
    assert isinstance(cache, RedisCache)
    options = cache.client.connection_pool.connection_kwargs
    assert (options["host"], options["port"], options["db"]) == ("cache", 6390, 4)
    assert (options["socket_timeout"], options["socket_connect_timeout"]) == (0.7, 0.3)
    locks = backends.create("locks", "redis", settings)
    assert locks.client.connection_pool.connection_kwargs["socket_timeout"] == 0.7
    store = backends.create("storage", "s3", settings)
    assert isinstance(store, MinioObjectStore) and store.endpoint == "s3.internal:9100"
    index = backends.create("search", "elasticsearch", settings)
    assert isinstance(index, ElasticsearchSearchIndex) and index.url == "http://search:9201"
    registry = backends.create("discovery", "consul", settings)
    assert isinstance(registry, ConsulServiceRegistry)
    assert (registry.host, registry.port) == ("agent", 8600)


def test_in_process_backends_hold_what_bootstrap_creates_on_real_servers():
    assert backends.get_bus().list_topics() == sorted(PLATFORM_TOPICS)
    assert all(backends.get_storage().bucket_exists(bucket) for bucket in PLATFORM_BUCKETS)
    assert all(backends.get_search().index_exists(name) for name in PLATFORM_INDICES)


def test_getters_return_one_adapter_per_process_until_reset():
    cache, bus = backends.get_cache(), backends.get_bus()
    assert isinstance(cache, InMemoryCache)
    assert backends.get_cache() is cache and backends.ports().bus is bus
    backends.reset_backends()
    assert backends.get_cache() is not cache and backends.get_bus() is not bus


def test_getters_follow_the_environment_after_a_reset(monkeypatch):
    monkeypatch.setenv("SYNAPSE_CACHE_BACKEND", "redis")
    backends.reset_backends()
    assert isinstance(backends.get_cache(), RedisCache)
    monkeypatch.setenv("SYNAPSE_CACHE_BACKEND", "memcached")
    backends.reset_backends()
    with pytest.raises(ValidationError, match="SYNAPSE_CACHE_BACKEND must be one of"):
        backends.get_cache()


def test_use_backend_serves_an_instance_inside_the_block_only():
    mine = InMemoryCache()
    before = backends.get_cache()
    with backends.use_backend("cache", mine):
        assert backends.get_cache() is mine
    assert backends.get_cache() is before


def test_registration_uses_the_manifest_port_and_the_configured_host():
    registration = registration_for("inference", InfraSettings(service_host="10.0.0.7"))
    assert registration.service_id == f"inference-10.0.0.7-{SERVICES['inference'].port}"
    moved = registration_for("inference", InfraSettings(service_port=9105))
    assert moved.port == 9105


def test_fastapi_service_is_registered_while_it_runs_and_withdrawn_on_shutdown():
    discovery = backends.get_discovery()
    assert isinstance(discovery, InMemoryServiceRegistry)
    app = create_service_app("inference")
    assert discovery.healthy_instances("inference") == []
    with TestClient(app):
        (instance,) = discovery.healthy_instances("inference")
        assert instance.port == SERVICES["inference"].port
    assert discovery.healthy_instances("inference") == []


def test_django_service_registers_on_lifespan_startup_and_leaves_on_shutdown():
    from services.django_project.asgi import get_asgi_application_for

    app = get_asgi_application_for("registry")
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    seen: list[list[str]] = []

    async def receive():
        return next(messages)

    async def send(message):
        seen.append([i.service for i in backends.get_discovery().healthy_instances("registry")])

    anyio.run(app, {"type": "lifespan"}, receive, send)
    assert seen == [["registry"], []]
