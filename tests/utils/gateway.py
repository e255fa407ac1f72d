"""Factories for gateway tests: an echo upstream, a counting transport, a wired gateway."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.testclient import TestClient

from services.gateway.config import Settings
from services.gateway.main import create_app, make_client_factory
from shared.clients.base import ServiceClient
from shared.clients.inprocess import InProcessTransport
from shared.web import create_service_app
from tests.utils.asgi import LocalTestClient
from tests.utils.models import ModelsEnv, make_models_env

UPSTREAMS = {
    "models": "http://models",
    "registry": "http://registry",
    "scheduler": "http://scheduler",
}


def make_echo_app(name: str = "registry") -> FastAPI:
    """Build a service app that describes every request it gets, or fails on demand."""
    app = create_service_app(name)

    @app.get("/fail/{status}")
    def fail(status: int) -> JSONResponse:
        body = {"error": "upstream_says_no", "detail": f"{name} failed with {status}"}
        return JSONResponse(body, status_code=status, headers={"Retry-After": "7"})

    @app.get("/text")
    def text() -> PlainTextResponse:
        return PlainTextResponse("plain words", status_code=202)

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def echo(request: Request, path: str) -> dict:
        raw = await request.body()
        return {
            "service": name,
            "method": request.method,
            "path": request.scope["path"],
            "raw_path": request.scope["raw_path"].decode(),
            "query": request.scope["query_string"].decode(),
            "headers": dict(request.headers),
            "json": json.loads(raw) if raw else None,
        }

    return app


class CountingTransport(httpx.BaseTransport):
    """Pass requests to another transport and remember each one."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)


@dataclass
class FakeClock:
    """A monotonic clock the test moves by hand."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class GatewayEnv:
    """A gateway whose upstreams run in this process: models, an echo app, a missing one."""

    app: FastAPI
    client: TestClient
    transport: CountingTransport
    models: ModelsEnv
    clock: FakeClock
    sleeps: list[float] = field(default_factory=list)
    built: list[str] = field(default_factory=list)

    def upstream_requests(self, host: str) -> list[httpx.Request]:
        """Return the requests the gateway sent to `host`."""
        return [r for r in self.transport.requests if r.url.host == host]


def make_gateway_env(**settings: Any) -> GatewayEnv:
    """Build a gateway in front of in-process upstreams; keyword arguments go to Settings."""
    settings.setdefault("upstreams", UPSTREAMS)
    config = Settings(**settings)
    models = make_models_env()
    inner = InProcessTransport({"models": models.app, "registry": make_echo_app()})
    transport = CountingTransport(inner)
    clock, sleeps, built = FakeClock(), [], []
    build = make_client_factory(config, transport=transport, sleep=sleeps.append, clock=clock)

    def factory(service: str) -> ServiceClient:
        built.append(service)
        return build(service)

    app = create_app(config, factory)
    client = LocalTestClient(app, raise_server_exceptions=False)
    return GatewayEnv(app, client, transport, models, clock, sleeps, built)
