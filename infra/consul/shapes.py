"""JSON shapes of nodes, services and health entries as Consul 1.16 returns them."""

from __future__ import annotations

import uuid
from typing import Any

from infra.consul.agent import ConsulAgent, ServiceEntry

NODE_ID = str(uuid.uuid5(uuid.NAMESPACE_DNS, "synapse-dev.consul"))


def consul_service() -> ServiceEntry:
    """Return the catalog's own "consul" service, which every server agent registers."""
    return ServiceEntry("consul", "consul", port=8300, create_index=10, modify_index=10)


def node_json(agent: ConsulAgent) -> dict[str, Any]:
    """Return the single node of the stand-in."""
    lan = agent.address
    return {
        "ID": NODE_ID,
        "Node": agent.node,
        "Address": lan,
        "Datacenter": agent.datacenter,
        "TaggedAddresses": {"lan": lan, "lan_ipv4": lan, "wan": lan, "wan_ipv4": lan},
        "Meta": {"consul-network-segment": ""},
        "CreateIndex": 10,
        "ModifyIndex": 10,
    }


def agent_service_json(
    service: ServiceEntry, agent: ConsulAgent, detail: bool = False
) -> dict[str, Any]:
    """Return a service as /v1/agent/services shows it (keyed by ID there)."""
    data = {
        "ID": service.service_id,
        "Service": service.name,
        "Tags": list(service.tags),
        "Meta": dict(service.meta),
        "Port": service.port,
        "Address": service.address,
        "Weights": dict(service.weights),
        "EnableTagOverride": service.enable_tag_override,
        "Datacenter": agent.datacenter,
    }
    if detail:
        data["ContentHash"] = f"{service.modify_index:016x}"
    return data


def catalog_entry(service: ServiceEntry, agent: ConsulAgent) -> dict[str, Any]:
    """Return a service instance as /v1/catalog/service/<name> shows it."""
    node = node_json(agent)
    return {
        "ID": node["ID"],
        "Node": node["Node"],
        "Address": node["Address"],
        "Datacenter": node["Datacenter"],
        "TaggedAddresses": node["TaggedAddresses"],
        "NodeMeta": node["Meta"],
        "ServiceKind": "",
        "ServiceID": service.service_id,
        "ServiceName": service.name,
        "ServiceTags": list(service.tags),
        "ServiceAddress": service.address,
        "ServiceWeights": dict(service.weights),
        "ServiceMeta": dict(service.meta),
        "ServicePort": service.port,
        "ServiceEnableTagOverride": service.enable_tag_override,
        "CreateIndex": service.create_index,
        "ModifyIndex": service.modify_index,
    }


def health_entry(service: ServiceEntry, agent: ConsulAgent) -> dict[str, Any]:
    """Return a service instance with its node and checks, as /v1/health/service shows it."""
    checks = [*agent.node_checks, *agent.service_checks(service.service_id)]
    return {
        "Node": node_json(agent),
        "Service": {
            "ID": service.service_id,
            "Service": service.name,
            "Tags": list(service.tags),
            "Address": service.address,
            "Meta": dict(service.meta),
            "Port": service.port,
            "Weights": dict(service.weights),
            "EnableTagOverride": service.enable_tag_override,
            "CreateIndex": service.create_index,
            "ModifyIndex": service.modify_index,
        },
        "Checks": [check.to_json(agent.node) for check in checks],
    }
