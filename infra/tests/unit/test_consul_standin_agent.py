"""The Consul stand-in's agent, catalog, health and status APIs, mostly through py-consul."""

from __future__ import annotations

import consul
import pytest

from infra.consul.checks import CRITICAL


def ids(entries):
    return [entry["Service"]["ID"] for entry in entries]


def register_ttl(client, service_id="models-1", name="models", ttl="10s", **extra):
    client.agent.service.register(
        name,
        service_id=service_id,
        address="127.0.0.1",
        port=8002,
        check=consul.Check.ttl(ttl),
        **extra,
    )
    return f"service:{service_id}"


def test_status_leader_and_peers_name_the_server(client):
    assert client.status.leader() == "127.0.0.1:8300"
    assert client.status.peers() == ["127.0.0.1:8300"]


def test_registered_service_shows_in_agent_services_with_consul_fields(client):
    client.agent.service.register(
        "models", service_id="models-1", address="10.0.0.5", port=8002, tags=["v1"], meta={"a": "b"}
    )
    service = client.agent.services()["models-1"]
    assert service["Service"] == "models" and service["Port"] == 8002
    assert service["Address"] == "10.0.0.5" and service["Tags"] == ["v1"]
    assert service["Meta"] == {"a": "b"}
    assert service["Weights"] == {"Passing": 1, "Warning": 1}


def test_service_id_defaults_to_its_name(client):
    client.agent.service.register("registry", port=8003)
    assert list(client.agent.services()) == ["registry"]


def test_registration_without_a_name_is_a_bad_request(http):
    response = http.put("/v1/agent/service/register", json={"Port": 1})
    assert response.status_code == 400


def test_deregister_removes_the_service_and_its_checks(client):
    register_ttl(client)
    assert client.agent.service.deregister("models-1") is True
    assert client.agent.services() == {}
    assert client.agent.checks() == {}


def test_deregister_of_an_unknown_service_is_not_found(http):
    assert http.put("/v1/agent/service/deregister/nope").status_code == 404


def test_catalog_services_lists_names_with_their_tags(client):
    client.agent.service.register("models", service_id="m1", port=1, tags=["a"])
    client.agent.service.register("models", service_id="m2", port=2, tags=["a", "b"])
    client.agent.service.register("gateway", port=3)
    _, services = client.catalog.services()
    assert services == {"consul": [], "models": ["a", "b"], "gateway": []}


def test_catalog_service_lists_instances_and_filters_by_tag(client):
    client.agent.service.register("models", service_id="m1", address="h1", port=1, tags=["blue"])
    client.agent.service.register("models", service_id="m2", address="h2", port=2, tags=["green"])
    _, every = client.catalog.service("models")
    assert [(e["ServiceID"], e["ServiceAddress"], e["ServicePort"]) for e in every] == [
        ("m1", "h1", 1),
        ("m2", "h2", 2),
    ]
    _, green = client.catalog.service("models", tag="green")
    assert [e["ServiceID"] for e in green] == ["m2"]
    assert green[0]["Node"] == "synapse-dev" and green[0]["Datacenter"] == "dc1"


def test_ttl_check_ids_follow_consul_naming(client):
    client.agent.service.register(
        "models",
        service_id="m1",
        check=consul.Check.ttl("10s"),
        extra_checks=[consul.Check.ttl("20s")],
    )
    client.agent.service.register("gateway", check=consul.Check.ttl("10s"))
    assert sorted(client.agent.checks()) == ["service:gateway", "service:m1:1", "service:m1:2"]


def test_new_ttl_check_is_critical_until_it_reports(client):
    register_ttl(client)
    check = client.agent.checks()["service:models-1"]
    assert check["Status"] == CRITICAL
    assert check["Type"] == "ttl" and check["ServiceName"] == "models"


def test_health_passing_filter_follows_ttl_pass(client):
    check_id = register_ttl(client)
    assert client.health.service("models", passing=True)[1] == []
    client.agent.check.ttl_pass(check_id, notes="ready")
    _, entries = client.health.service("models", passing=True)
    assert ids(entries) == ["models-1"]
    statuses = {c["CheckID"]: (c["Status"], c["Output"]) for c in entries[0]["Checks"]}
    assert statuses["service:models-1"] == ("passing", "ready")


def test_ttl_check_expires_to_critical_when_not_refreshed(client, clock):
    check_id = register_ttl(client, ttl="10s")
    client.agent.check.ttl_pass(check_id)
    clock.advance(9.9)
    assert ids(client.health.service("models", passing=True)[1]) == ["models-1"]
    clock.advance(0.2)
    assert client.health.service("models", passing=True)[1] == []
    assert client.agent.checks()[check_id]["Output"] == "TTL expired"


def test_warning_is_not_passing_but_still_listed(client):
    check_id = register_ttl(client)
    client.agent.check.ttl_warn(check_id)
    assert client.health.service("models", passing=True)[1] == []
    _, every = client.health.service("models")
    assert [c["Status"] for c in every[0]["Checks"]] == ["passing", "warning"]


def test_health_entry_carries_the_node_and_its_serf_check(client):
    register_ttl(client)
    _, [entry] = client.health.service("models")
    assert entry["Node"]["Node"] == "synapse-dev" and entry["Node"]["Address"] == "127.0.0.1"
    assert entry["Service"]["Port"] == 8002
    assert entry["Checks"][0]["CheckID"] == "serfHealth"


def test_health_checks_lists_only_that_services_checks(client):
    register_ttl(client, service_id="m1", name="models")
    register_ttl(client, service_id="g1", name="gateway")
    _, checks = client.health.checks("models")
    assert [c["CheckID"] for c in checks] == ["service:m1"]


def test_http_check_passes_only_after_a_real_probe(client, prober, clock):
    client.agent.service.register(
        "inference", port=8005, check=consul.Check.http("http://127.0.0.1:8005/health", "10s")
    )
    prober.status = CRITICAL
    assert client.health.service("inference", passing=True)[1] == []
    prober.status = "passing"
    assert client.health.service("inference", passing=True)[1] == []  # interval not elapsed
    clock.advance(10)
    assert ids(client.health.service("inference", passing=True)[1]) == ["inference"]
    assert prober.calls == ["service:inference", "service:inference"]


def test_http_check_without_interval_is_refused(http):
    body = {"Name": "x", "Check": {"HTTP": "http://127.0.0.1:1/"}}
    assert http.put("/v1/agent/service/register", json=body).status_code == 400


def test_critical_service_is_deregistered_after_its_grace(client, clock):
    client.agent.service.register(
        "training", port=8004, check={"ttl": "5s", "DeregisterCriticalServiceAfter": "30s"}
    )
    clock.advance(29)
    assert "training" in client.agent.services()
    clock.advance(2)
    assert client.agent.services() == {}


def test_reregistration_keeps_the_checks_last_status(client):
    check_id = register_ttl(client)
    client.agent.check.ttl_pass(check_id)
    register_ttl(client)
    assert client.agent.checks()[check_id]["Status"] == "passing"


def test_ttl_update_of_an_unknown_check_is_not_found(http):
    assert http.put("/v1/agent/check/pass/service:none").status_code == 404


def test_ttl_update_of_an_http_check_is_refused(client, http):
    client.agent.service.register("web", check=consul.Check.http("http://127.0.0.1:1/", "10s"))
    response = http.put("/v1/agent/check/pass/service:web")
    assert response.status_code == 500
    assert "TTL" in response.text


def test_check_update_endpoint_sets_status_and_output(client, http):
    check_id = register_ttl(client)
    body = {"Status": "passing", "Output": "all good"}
    assert http.put(f"/v1/agent/check/update/{check_id}", json=body).status_code == 200
    check = client.agent.checks()[check_id]
    assert (check["Status"], check["Output"]) == ("passing", "all good")


def test_writes_advance_the_index_reported_by_queries(client):
    first, _ = client.catalog.services()
    client.agent.service.register("models", port=1)
    second, _ = client.catalog.services()
    assert int(second) > int(first)


@pytest.mark.parametrize("state", ["any", "passing", "critical"])
def test_health_state_lists_checks_in_that_state(client, state):
    register_ttl(client)
    _, checks = client.health.state(state)
    expected = {"any": {"serfHealth", "service:models-1"}, "passing": {"serfHealth"}}
    expected["critical"] = {"service:models-1"}
    assert {c["CheckID"] for c in checks} == expected[state]
