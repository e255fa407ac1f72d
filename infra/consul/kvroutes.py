"""The /v1/kv/<key> routes: GET (one, ?recurse, ?keys, ?raw), PUT (?cas, ?flags), DELETE."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from infra.consul.web import agent_of, block, error, reply

UNSUPPORTED = ("acquire", "release")


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise ValueError(f"Invalid {name} value: {raw!r}")
    return int(raw)


def kv_get(request: Request) -> Response:
    """Return one key, its keys under a prefix, or every entry under it."""
    if (refused := block(request)) is not None:
        return refused
    agent = agent_of(request)
    key = request.path_params["key"]
    query = request.query_params
    if "keys" in query:
        names = agent.kv.keys(key, query.get("separator") or None)
        return reply(names, agent) if names else reply(None, agent, status=404)
    if "recurse" in query:
        entries = agent.kv.list(key)
        if not entries:
            return reply(None, agent, status=404)
        return reply([entry.to_json() for entry in entries], agent)
    entry = agent.kv.get(key)
    if entry is None:
        return reply(None, agent, status=404)
    if "raw" in query:
        headers = {"X-Consul-Index": str(agent.index.current)}
        return Response(entry.value or b"", media_type="application/octet-stream", headers=headers)
    return reply([entry.to_json()], agent)


async def kv_put(request: Request) -> Response:
    """Store a value, optionally only if the modify index still matches."""
    if any(name in request.query_params for name in UNSUPPORTED):
        return error(400, "sessions (acquire/release) are not supported by this Consul stand-in")
    try:
        cas = _int_param(request, "cas")
        flags = _int_param(request, "flags") or 0
    except ValueError as exc:
        return error(400, str(exc))
    key = request.path_params["key"]
    if not key:
        return error(400, "Missing key name")
    value = await request.body()
    return reply(agent_of(request).kv.put(key, value, flags, cas))


def kv_delete(request: Request) -> Response:
    """Delete one key or every key under a prefix."""
    try:
        cas = _int_param(request, "cas")
    except ValueError as exc:
        return error(400, str(exc))
    recurse = "recurse" in request.query_params
    key = request.path_params["key"]
    if not key and not recurse:
        return error(400, "Missing key name")
    return reply(agent_of(request).kv.delete(key, recurse, cas))


async def kv_endpoint(request: Request) -> Response:
    """Dispatch /v1/kv/<key> by method."""
    if request.method == "PUT":
        return await kv_put(request)
    if request.method == "DELETE":
        return kv_delete(request)
    return kv_get(request)


def kv_routes() -> list[Route]:
    """Return the KV routes."""
    return [Route("/v1/kv/{key:path}", kv_endpoint, methods=["GET", "PUT", "DELETE"])]
