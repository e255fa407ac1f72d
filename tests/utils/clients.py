"""Test helpers for the service client: upstream apps, scripted transports, client factories."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterable
from typing import Any

import httpx
from fastapi import Request, Response
from fastapi.responses import JSONResponse

from shared.clients.base import CircuitBreaker, RetryPolicy, ServiceClient, StaticDiscovery
from shared.clients.inprocess import InProcessTransport
from shared.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from shared.web import create_service_app

_RAISES = {
    404: lambda: NotFoundError("model 'iris' not found"),
    409: lambda: ConflictError("model 'iris' already exists", details={"name": "iris"}),
    422: lambda: ValidationError("task must be classification or regression"),
    403: lambda: PermissionDeniedError("role viewer cannot delete models"),
}


def make_upstream_app(name: str = "registry"):
    """Build a FastAPI service app that echoes requests and raises platform errors on demand."""
    app = create_service_app(name)

    @app.api_route("/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def echo(request: Request) -> dict:
        body = await request.body()
        return {
            "service": name,
            "method": request.method,
            "path": request.url.path,
            "query": dict(request.query_params),
            "headers": dict(request.headers),
            "json": json.loads(body) if body else None,
        }

    @app.get("/errors/{status}")
    def error(status: int) -> dict:
        if status in _RAISES:
            raise _RAISES[status]()
        return JSONResponse({"error": "custom", "detail": f"status {status}"}, status_code=status)

    @app.delete("/empty", status_code=204, response_class=Response)
    def empty() -> Response:
        return Response(status_code=204)

    return app


def make_wsgi_app(name: str = "legacy") -> Callable:
    """Build a framework-free WSGI app that answers JSON describing the request."""

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        if environ["PATH_INFO"] == "/missing":
            status, payload = "404 Not Found", {"error": "not_found", "detail": "no such page"}
        else:
            status, payload = (
                "200 OK",
                {
                    "service": name,
                    "method": environ["REQUEST_METHOD"],
                    "path": environ["PATH_INFO"],
                    "query": environ.get("QUERY_STRING", ""),
                    "authorization": environ.get("HTTP_AUTHORIZATION"),
                    "correlation_id": environ.get("HTTP_X_CORRELATION_ID"),
                    "json": json.loads(raw) if raw else None,
                },
            )
        start_response(status, [("Content-Type", "application/json")])
        return [json.dumps(payload).encode()]

    return app


Step = int | tuple[int, dict[str, str]] | type[Exception]


class ScriptedTransport(httpx.BaseTransport):
    """Answer requests from a script of statuses or exception classes; record each request.

    After the script runs out every request gets 200. `gate`, when set, makes each request
    announce itself on `entered` and wait on `gate` before answering.
    """

    def __init__(self, script: Iterable[Step] = ()) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []
        self.entered = threading.Event()
        self.gate: threading.Event | None = None
        self._lock = threading.Lock()

    @property
    def calls(self) -> int:
        """Return how many requests reached the transport."""
        return len(self.requests)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
            step: Step = self.script.pop(0) if self.script else 200
        if self.gate is not None:
            self.entered.set()
            self.gate.wait(timeout=5)
        if isinstance(step, type) and issubclass(step, Exception):
            raise step("scripted failure", request=request)
        status, headers = step if isinstance(step, tuple) else (step, {})
        body = {"attempt": self.calls} if status < 400 else {"error": "x", "detail": f"{status}"}
        return httpx.Response(status, json=body, headers=headers)


def recorded_sleeps() -> tuple[list[float], Callable[[float], None]]:
    """Return a list and a sleeper that appends each requested pause to it."""
    sleeps: list[float] = []
    return sleeps, sleeps.append


def no_jitter_policy(**overrides: Any) -> RetryPolicy:
    """Return a retry policy with exact exponential delays (no jitter)."""
    options: dict[str, Any] = {"max_attempts": 4, "backoff": 0.1, "jitter": 0.0}
    options.update(overrides)
    return RetryPolicy(**options)


def seeded_policy(seed: int, **overrides: Any) -> RetryPolicy:
    """Return a retry policy whose jitter comes from a generator seeded with `seed`."""
    return RetryPolicy(rng=random.Random(seed), **overrides)


def make_client(
    service: str = "registry",
    transport: httpx.BaseTransport | None = None,
    *,
    apps: dict[str, Any] | None = None,
    sleeper: Callable[[float], None] | None = None,
    retry: RetryPolicy | None = None,
    breaker: CircuitBreaker | None = None,
    **kwargs: Any,
) -> ServiceClient:
    """Build a ServiceClient for `service` on an in-process or scripted transport."""
    if transport is None:
        transport = InProcessTransport(apps or {service: make_upstream_app(service)})
    hosts = {name: f"http://{name}" for name in ("registry", "models", "legacy", "gateway")}
    hosts.setdefault(service, f"http://{service}")
    return ServiceClient(
        service,
        discovery=StaticDiscovery(hosts),
        transport=transport,
        retry=retry if retry is not None else no_jitter_policy(),
        breaker=breaker,
        sleep=sleeper if sleeper is not None else (lambda _seconds: None),
        **kwargs,
    )
