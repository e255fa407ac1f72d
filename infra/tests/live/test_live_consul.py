"""Service-registry contract on the Consul agent: registration, health-checked discovery, KV."""

from __future__ import annotations

import pytest

from infra.tests.live.support import HealthServer, unique
from shared.bootstrap.steps import bootstrap_consul
from shared.clients.consul import ConsulServiceRegistry, ServiceRegistration, registered
from tests.utils.infra_contracts import ServiceRegistryContract


@pytest.fixture(scope="module")
def health_servers():
    with HealthServer() as first, HealthServer() as second:
        yield [first, second]


@pytest.fixture(scope="module")
def consul_registry(infra_settings):
    return ConsulServiceRegistry.from_settings(infra_settings)


@pytest.fixture
def instance(consul_registry, health_servers):
    """Return instance(n) → a registration of one service per test on the n-th live server."""
    service, made = unique("svc"), []

    def make(n: int, **fields) -> ServiceRegistration:
        made.append(ServiceRegistration(service, "127.0.0.1", health_servers[n].port, **fields))
        return made[-1]

    yield make
    for registration in made:
        consul_registry.deregister(registration.service_id)


@pytest.fixture
def kv_prefix(consul_registry):
    prefix = f"synapse-test/{unique('kv')}/"
    yield prefix
    for key in ("flags/shadow-mode", "defaults/batch", "a", "b"):
        consul_registry.kv_delete(prefix + key)


class TestConsulServiceRegistry(ServiceRegistryContract):
    @pytest.fixture
    def registry(self, consul_registry):
        return consul_registry


def test_instance_failing_its_health_check_is_not_discovered(consul_registry, instance):
    healthy, broken = instance(0), instance(1, health_path="/missing")
    consul_registry.register(healthy)
    consul_registry.register(broken)
    assert [i.port for i in consul_registry.healthy_instances(healthy.service)] == [healthy.port]


def test_registered_block_deregisters_on_exit(consul_registry, instance):
    with registered(consul_registry, instance(0)) as service_id:
        [found] = consul_registry.healthy_instances(instance(0).service)
        assert found.service_id == service_id
    assert consul_registry.healthy_instances(instance(0).service) == []


def test_kv_bootstrap_writes_missing_defaults_only(consul_registry, kv_prefix):
    defaults = {kv_prefix + "a": "1", kv_prefix + "b": "2"}
    consul_registry.kv_put(kv_prefix + "a", "operator")
    assert bootstrap_consul(consul_registry, defaults) == [kv_prefix + "b"]
    assert consul_registry.kv_get(kv_prefix + "a") == "operator"
