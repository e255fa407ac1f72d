"""The stand-in's HTTP API (ASGI): the subset of Consul's v1 API that py-consul calls."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from infra.consul.agent import ConsulAgent, DefinitionError, ServiceEntry, UnknownError
from infra.consul.checks import CRITICAL, PASSING, STATUSES, WARNING
from infra.consul.kvroutes import kv_routes
from infra.consul.shapes import (
    agent_service_json,
    catalog_entry,
    consul_service,
    health_entry,
    node_json,
)
from infra.consul.web import agent_of, block, error, read_json, reply

LEADER = "127.0.0.1:8300"


def status_leader(request: Request) -> Response:
    """Return the address of the cluster leader (this agent)."""
    return JSONResponse(LEADER)


def status_peers(request: Request) -> Response:
    """Return the raft peers: only this agent."""
    return JSONResponse([LEADER])


def agent_self(request: Request) -> Response:
    """Return the agent's configuration and member record."""
    agent = agent_of(request)
    config = {"Datacenter": agent.datacenter, "NodeName": agent.node, "Server": True}
    config["Version"] = "1.16.0"
    member = {"Name": agent.node, "Addr": agent.address, "Port": 8301, "Status": 1}
    return JSONResponse({"Config": config, "Member": member})


async def service_register(request: Request) -> Response:
    """Register a service instance from its JSON definition."""
    agent = agent_of(request)
    try:
        body = await read_json(request)
        replace = request.query_params.get("replace-existing-checks") in ("true", "1")
        agent.register_service(body, replace_existing_checks=replace)
    except DefinitionError as exc:
        return error(400, str(exc))
    return Response(status_code=200)


def service_deregister(request: Request) -> Response:
    """Deregister a service instance and its checks."""
    try:
        agent_of(request).deregister_service(request.path_params["service_id"])
    except UnknownError as exc:
        return error(404, str(exc))
    return Response(status_code=200)


def agent_services(request: Request) -> Response:
    """Return the services registered with this agent, keyed by ID."""
    if (refused := block(request)) is not None:
        return refused
    agent = agent_of(request)
    agent.refresh(probe=False)
    with agent.index.lock:
        data = {sid: agent_service_json(s, agent) for sid, s in agent.services.items()}
    return reply(data, agent)


def agent_service(request: Request) -> Response:
    """Return one service registered with this agent."""
    agent = agent_of(request)
    agent.refresh(probe=False)
    service = agent.services.get(request.path_params["service_id"])
    if service is None:
        return error(404, "unknown service ID: " + request.path_params["service_id"])
    return reply(agent_service_json(service, agent, detail=True), agent)


def agent_checks(request: Request) -> Response:
    """Return the checks registered with this agent, keyed by ID."""
    if (refused := block(request)) is not None:
        return refused
    agent = agent_of(request)
    agent.refresh()
    with agent.index.lock:
        data = {cid: c.to_json(agent.node) for cid, c in agent.checks.items()}
    return reply(data, agent)


async def check_register(request: Request) -> Response:
    """Register a check from its JSON definition."""
    try:
        agent_of(request).register_check(await read_json(request))
    except DefinitionError as exc:
        return error(400, str(exc))
    return Response(status_code=200)


def check_deregister(request: Request) -> Response:
    """Deregister a check."""
    try:
        agent_of(request).deregister_check(request.path_params["check_id"])
    except UnknownError as exc:
        return error(404, str(exc))
    return Response(status_code=200)


TTL_STATES = {"pass": PASSING, "warn": WARNING, "fail": CRITICAL}


async def check_ttl(request: Request) -> Response:
    """Set a TTL check's status: pass, warn, fail or a JSON update."""
    state = request.path_params["state"]
    check_id = request.path_params["check_id"]
    if state == "update":
        try:
            body = await read_json(request)
        except DefinitionError as exc:
            return error(400, str(exc))
        status, output = body.get("Status", ""), str(body.get("Output", ""))
        if status not in STATUSES:
            return error(400, f'Invalid check status: "{status}"')
    elif state in TTL_STATES:
        status, output = TTL_STATES[state], request.query_params.get("note", "")
    else:
        return error(404, "Not Found")
    try:
        agent_of(request).update_ttl(check_id, status, output)
    except UnknownError as exc:
        return error(404, str(exc))
    except TypeError as exc:
        return error(500, str(exc))
    return Response(status_code=200)


def instances(agent: ConsulAgent, name: str, tags: list[str]) -> list[ServiceEntry]:
    """Return the instances of a service carrying every requested tag."""
    found = [s for s in agent.services.values() if s.name == name]
    if name == "consul":
        found.insert(0, consul_service())
    return [s for s in found if all(tag in s.tags for tag in tags)]


def catalog_services(request: Request) -> Response:
    """Return every service name with the union of its instances' tags."""
    if (refused := block(request)) is not None:
        return refused
    agent = agent_of(request)
    agent.refresh(probe=False)
    data: dict[str, list[str]] = {"consul": []}
    with agent.index.lock:
        for service in agent.services.values():
            tags = data.setdefault(service.name, [])
            tags.extend(tag for tag in service.tags if tag not in tags)
    return reply(data, agent)


def catalog_service(request: Request) -> Response:
    """Return the catalog entries of a service's instances."""
    if (refused := block(request)) is not None:
        return refused
    agent = agent_of(request)
    agent.refresh(probe=False)
    tags = request.query_params.getlist("tag")
    with agent.index.lock:
        found = instances(agent, request.path_params["name"], tags)
        data = [catalog_entry(s, agent) for s in found]
    return reply(data, agent)


def catalog_nodes(request: Request) -> Response:
    """Return the catalog's only node."""
    return reply([node_json(agent_of(request))], agent_of(request))


def catalog_datacenters(request: Request) -> Response:
    """Return the catalog's only datacenter."""
    return JSONResponse([agent_of(request).datacenter])


def health_service(request: Request) -> Response:
    """Return a service's instances with their node and checks."""
    if (refused := block(request)) is not None:
        return refused
    agent = agent_of(request)
    agent.refresh()
    tags = request.query_params.getlist("tag")
    passing_only = "passing" in request.query_params
    with agent.index.lock:
        entries = [
            health_entry(s, agent) for s in instances(agent, request.path_params["name"], tags)
        ]
    if passing_only:
        entries = [e for e in entries if all(c["Status"] == PASSING for c in e["Checks"])]
    return reply(entries, agent)


def health_checks(request: Request) -> Response:
    """Return the checks of a service's instances."""
    if (refused := block(request)) is not None:
        return refused
    agent = agent_of(request)
    agent.refresh()
    name = request.path_params["name"]
    with agent.index.lock:
        data = [c.to_json(agent.node) for c in agent.checks.values() if c.service_name == name]
    return reply(data, agent)


def health_state(request: Request) -> Response:
    """Return the checks in one state, or all with "any"."""
    if (refused := block(request)) is not None:
        return refused
    state = request.path_params["state"]
    if state not in (*STATUSES, "any"):
        return error(400, "Bad check state")
    agent = agent_of(request)
    agent.refresh()
    with agent.index.lock:
        every = [*agent.node_checks, *agent.checks.values()]
        data = [c.to_json(agent.node) for c in every if state in ("any", c.status)]
    return reply(data, agent)


def create_app(agent: ConsulAgent | None = None) -> Starlette:
    """Build the ASGI app around an agent state (a fresh one by default)."""
    routes = [
        Route("/v1/status/leader", status_leader),
        Route("/v1/status/peers", status_peers),
        Route("/v1/agent/self", agent_self),
        Route("/v1/agent/services", agent_services),
        Route("/v1/agent/service/register", service_register, methods=["PUT"]),
        Route(
            "/v1/agent/service/deregister/{service_id:path}", service_deregister, methods=["PUT"]
        ),
        Route("/v1/agent/service/{service_id:path}", agent_service),
        Route("/v1/agent/checks", agent_checks),
        Route("/v1/agent/check/register", check_register, methods=["PUT"]),
        Route("/v1/agent/check/deregister/{check_id:path}", check_deregister, methods=["PUT"]),
        Route("/v1/agent/check/{state}/{check_id:path}", check_ttl, methods=["PUT"]),
        Route("/v1/catalog/services", catalog_services),
        Route("/v1/catalog/service/{name}", catalog_service),
        Route("/v1/catalog/nodes", catalog_nodes),
        Route("/v1/catalog/datacenters", catalog_datacenters),
        Route("/v1/health/service/{name}", health_service),
        Route("/v1/health/checks/{name}", health_checks),
        Route("/v1/health/state/{state}", health_state),
        *kv_routes(),
    ]
    app = Starlette(routes=routes)
    app.state.agent = agent or ConsulAgent()
    return app
