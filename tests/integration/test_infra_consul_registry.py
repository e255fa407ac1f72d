"""Service registration and discovery: stable instance ids, /health checks, KV defaults."""

from __future__ import annotations

import httpx
import pytest
import requests

from shared.bootstrap.steps import KV_DEFAULTS, bootstrap_consul
from shared.clients.consul import (
    ConsulDiscovery,
    ConsulServiceRegistry,
    InMemoryServiceRegistry,
    registered,
)
from shared.clients.inprocess import InProcessTransport
from shared.errors import ServiceUnavailableError, ValidationError
from shared.web import create_service_app
from tests.utils.infra import Recorder, registration
from tests.utils.infra_contracts import ServiceRegistryContract

pytestmark = pytest.mark.gateway


class TestInMemoryServiceRegistry(ServiceRegistryContract):
    @pytest.fixture
    def registry(self):
        return InMemoryServiceRegistry()

    @pytest.fixture
    def instance(self):
        return lambda n, **kw: registration("registry", "10.0.0.5", 8003 + n, **kw)

    @pytest.fixture
    def kv_prefix(self):
        return "synapse/test/"


def http_probe(apps: dict):
    """Run a check the way the agent does: GET its URL, healthy on 2xx."""
    client = httpx.Client(transport=InProcessTransport(apps))
    return lambda url: client.get(url).is_success


def test_replicas_sharing_a_host_register_as_distinct_instances():
    ids = {registration("registry", "10.0.0.5", p).service_id for p in (8003, 9003)}
    assert len(ids) == 2


def test_registration_payload_checks_the_instance_health_endpoint():
    payload = registration("models", "models-1", 8002, tags=("v1",)).payload()
    assert {k: payload[k] for k in ("ID", "Name", "Address", "Port", "Tags")} == {
        "ID": "models-models-1-8002",
        "Name": "models",
        "Address": "models-1",
        "Port": 8002,
        "Tags": ["v1"],
    }
    assert payload["Check"] == {
        "http": "http://models-1:8002/health",
        "interval": "10s",
        "timeout": "2s",
        "DeregisterCriticalServiceAfter": "1m",
    }


def test_only_instances_passing_their_health_check_are_resolved():
    sick = create_service_app("registry", health=lambda: {"healthy": False})
    apps = {"registry-a": create_service_app("registry"), "registry-b": sick}
    registry = InMemoryServiceRegistry(http_probe(apps))
    registry.register(registration("registry", "registry-a", 8003))
    registry.register(registration("registry", "registry-b", 8003))
    discovery = ConsulDiscovery(registry)
    assert {discovery.resolve("registry") for _ in range(3)} == {"http://registry-a:8003"}


def test_registered_block_deregisters_on_the_way_out_even_after_an_error():
    registry = InMemoryServiceRegistry()
    with pytest.raises(RuntimeError), registered(registry, registration()) as service_id:  # noqa: PT012
        assert registry.healthy_instances("registry")[0].service_id == service_id
        raise RuntimeError("shutdown")
    assert registry.healthy_instances("registry") == []


@pytest.mark.parametrize(
    "fields",
    [{"port": 0}, {"port": "8003"}, {"host": ""}, {"health_path": "health"}, {"interval": "10"}],
)
def test_invalid_registrations_are_refused(fields):
    with pytest.raises(ValidationError):
        registration(**fields)


def test_consul_adapter_registers_through_the_agent_api():
    client = Recorder()
    ConsulServiceRegistry(client).register(registration(tags=("blue",)))
    [(args, kwargs)] = client.called("agent.service.register")
    assert args == ("registry",)
    assert kwargs["service_id"] == "registry-10.0.0.5-8003"
    assert (kwargs["address"], kwargs["port"], kwargs["tags"]) == ("10.0.0.5", 8003, ["blue"])
    assert kwargs["check"]["http"] == "http://10.0.0.5:8003/health"


def test_consul_adapter_reads_passing_instances_falling_back_to_the_node_address():
    entry = {
        "Node": {"Address": "10.0.0.9"},
        "Service": {"ID": "registry-x-8003", "Service": "registry", "Address": "", "Port": 8003},
    }
    client = Recorder({"health.service": (7, [entry])})
    found = ConsulDiscovery(ConsulServiceRegistry(client)).resolve("registry")
    assert found == "http://10.0.0.9:8003"
    assert client.called("health.service") == [(("registry",), {"passing": True, "tag": None})]


def test_consul_adapter_reports_an_unreachable_agent_as_unavailable():
    client = Recorder({"kv.get": requests.ConnectionError("refused")})
    with pytest.raises(ServiceUnavailableError, match="Consul at localhost:8500"):
        ConsulServiceRegistry(client).kv_get("synapse/x")


def test_kv_bootstrap_writes_defaults_once_and_keeps_operator_changes():
    registry = InMemoryServiceRegistry()
    assert bootstrap_consul(registry) == list(KV_DEFAULTS)
    registry.kv_put("synapse/services/registry/port", "9003")
    assert bootstrap_consul(registry) == []
    assert registry.kv_get("synapse/services/registry/port") == "9003"


def test_consul_adapter_reads_missing_and_empty_keys_as_absent_and_decodes_values():
    for answer in ((1, None), (1, {"Key": "synapse/x", "Value": None})):
        assert ConsulServiceRegistry(Recorder({"kv.get": answer})).kv_get("synapse/x") is None
    stored = Recorder({"kv.get": (1, {"Key": "synapse/x", "Value": b"9003"})})
    assert ConsulServiceRegistry(stored).kv_get("synapse/x") == "9003"


def test_consul_adapter_writes_text_values_only_once_when_asked():
    client = Recorder({"kv.put": True})
    assert ConsulServiceRegistry(client).kv_put("synapse/x", "9003", only_if_absent=True)
    assert client.called("kv.put") == [(("synapse/x", "9003"), {"cas": 0})]
    with pytest.raises(ValidationError, match="strings"):
        ConsulServiceRegistry(client).kv_put("synapse/x", 9003)  # type: ignore[arg-type]
    assert len(client.called("kv.put")) == 1
