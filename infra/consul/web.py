"""HTTP helpers shared by the stand-in's routes: answers, errors, blocking queries."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from infra.consul.agent import ConsulAgent, DefinitionError
from infra.consul.durations import parse_duration

MAX_WAIT = 600.0
DEFAULT_WAIT = 300.0


def reply(data: object, agent: ConsulAgent | None = None, status: int = 200) -> JSONResponse:
    """Return a JSON answer; query answers carry X-Consul-Index like Consul's."""
    headers = {}
    if agent is not None:
        headers = {
            "X-Consul-Index": str(agent.index.current),
            "X-Consul-Knownleader": "true",
            "X-Consul-Lastcontact": "0",
        }
    return JSONResponse(data, status_code=status, headers=headers)


def error(status: int, text: str) -> PlainTextResponse:
    """Return an error the way Consul does: a plain-text body."""
    return PlainTextResponse(text, status_code=status)


def agent_of(request: Request) -> ConsulAgent:
    """Return the app's agent state."""
    agent: ConsulAgent = request.app.state.agent
    return agent


def block(request: Request) -> Response | None:
    """Serve a blocking query's wait (?index=&wait=); refuse what the stand-in lacks."""
    query = request.query_params
    if "filter" in query:
        return error(400, "filter expressions are not supported by this Consul stand-in")
    if "index" not in query:
        return None
    try:
        index = int(query["index"])
        wait = parse_duration(query["wait"]) if "wait" in query else DEFAULT_WAIT
    except ValueError:
        return error(400, "Invalid index or wait parameter")
    agent_of(request).index.wait_past(index, min(wait, MAX_WAIT))
    return None


async def read_json(request: Request) -> dict[str, Any]:
    """Decode a JSON object body, raising DefinitionError on anything else."""
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise DefinitionError(f"Request decode failed: {exc}") from None
    if not isinstance(body, dict):
        raise DefinitionError("Request decode failed: expected a JSON object")
    return body
