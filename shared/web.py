"""Build FastAPI apps the same way in every service: health, readiness, error handlers, docs."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute, request_response
from starlette.types import ASGIApp, Lifespan, Message, Receive, Scope, Send

from shared.discovery import registered
from shared.docs import serve_offline_docs
from shared.problems import PROBLEM_MEDIA_TYPE as PROBLEM_MEDIA_TYPE
from shared.problems import (
    install_problem_handlers,
    install_problem_openapi,
    problems,
)
from shared.readiness import READY_PATH, ReadinessCheck, run_checks
from shared.request_guard import DEFAULT_MAX_BODY_BYTES, RequestGuard
from shared.tracing import (
    CORRELATION_HEADER,
    bind_correlation_id,
    new_correlation_id,
    unbind_correlation_id,
    well_formed,
)

HealthCheck = Callable[[], dict[str, Any]]
# The body of every unexpected failure: stable, and free of the exception's text.
INTERNAL_ERROR_PROBLEM: dict[str, Any] = {
    "error": "internal_error",
    "detail": "the service failed to handle the request",
}
logger = logging.getLogger("synapse.web")
# Routes of each service router as the first app built them, by router id (see include_routes);
# the routers are module-level, so an id is never reused for another router.
_BUILT_ROUTES: dict[int, tuple[APIRouter, list[BaseRoute]]] = {}


def create_service_app(
    name: str,
    *,
    version: str = "1.0.0",
    health: HealthCheck | None = None,
    lifespan: Lifespan[FastAPI] | None = None,
    ready: Mapping[str, ReadinessCheck] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> FastAPI:
    """Create a FastAPI app named after the service with /health, /ready and JSON problems.

    ``ready`` names the checks /ready runs; a service adds more later through
    ``app.state.ready_checks`` (a dict, check name -> check). Request bodies past
    ``max_body_bytes`` are refused with 413.
    """
    app = FastAPI(title=f"SynapseNet {name}", version=version, lifespan=announced(name, lifespan))
    app.state.service_name = name
    app.state.ready_checks = dict(ready or {})

    @app.get("/health", tags=["ops"], responses=problems(503))
    def health_endpoint() -> JSONResponse:
        extra = health() if health else {}
        healthy = extra.pop("healthy", True)
        body = {"service": name, "status": "ok" if healthy else "unavailable", **extra}
        if healthy:
            return JSONResponse(body)
        problem = {"error": "service_unavailable", "detail": f"{name} is unavailable", **body}
        return JSONResponse(problem, status_code=503, media_type=PROBLEM_MEDIA_TYPE)

    @app.get(READY_PATH, tags=["ops"], responses=problems(503))
    def ready_endpoint(request: Request) -> JSONResponse:
        report = run_checks(name, request.app.state.ready_checks)
        media_type = None if report.ready else PROBLEM_MEDIA_TYPE
        return JSONResponse(report.to_body(), report.status_code, media_type=media_type)

    install_problem_handlers(app)
    install_problem_openapi(app)
    serve_offline_docs(app)
    app.add_middleware(RequestGuard, max_body_bytes=max_body_bytes)
    app.add_middleware(UnexpectedErrorMiddleware, service=name)
    app.add_middleware(CorrelationMiddleware)
    return app


def include_routes(app: FastAPI, router: APIRouter) -> None:
    """Add ``router``'s routes to ``app``, analysing each endpoint once per process.

    FastAPI's ``include_router`` rebuilds every route's request and response models for each app
    (most of an app's build time). The first app builds them; later apps get shallow copies
    whose handler is bound to the new app. Endpoints read their collaborators from
    ``request.app.state``, so nothing else of a route belongs to one app.
    """
    known = _BUILT_ROUTES.get(id(router))
    if known is None or known[0] is not router:
        first = len(app.router.routes)
        app.include_router(router)
        _BUILT_ROUTES[id(router)] = (router, list(app.router.routes[first:]))
        return
    for route in known[1]:
        clone = copy.copy(route)
        if isinstance(clone, APIRoute):
            clone.dependency_overrides_provider = app
            clone.app = request_response(clone.get_route_handler())
        app.router.routes.append(clone)


def announced(name: str, inner: Any = None) -> Callable[[FastAPI], Any]:
    """Return a lifespan that registers the instance with discovery around ``inner``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with registered(name):
            if inner is None:
                yield
            else:
                async with inner(app):
                    yield

    return lifespan


class UnexpectedErrorMiddleware:
    """Answer an unhandled exception with a JSON problem (500) and log its traceback.

    Platform errors and validation errors have their own handlers; this catches the rest,
    so a caller never sees a text/plain 500 nor the exception's message.
    """

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; on an exception before the response started, send the problem."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception:
            logger.exception(
                "unhandled error in %s %s %s", self.service, scope["method"], scope["path"]
            )
            if started:
                raise
            await send_problem(send, 500, INTERNAL_ERROR_PROBLEM)


async def send_problem(send: Send, status: int, problem: dict[str, Any]) -> None:
    """Send ``problem`` as a complete ``application/problem+json`` response."""
    body = json.dumps(problem).encode()
    headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class CorrelationMiddleware:
    """Bind the request's correlation ID and echo it on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app with the caller's ID (or a new one) bound."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = (
            dict(scope.get("headers") or []).get(CORRELATION_HEADER.encode(), b"").decode("latin-1")
        )
        correlation_id = sent if well_formed(sent) else new_correlation_id()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if CORRELATION_HEADER not in headers:
                    headers[CORRELATION_HEADER] = correlation_id
            await send(message)

        token = bind_correlation_id(correlation_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            unbind_correlation_id(token)
