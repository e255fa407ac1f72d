"""Build FastAPI apps the same way in every service: health, readiness, error handlers, docs."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Lifespan, Message, Receive, Scope, Send

from shared.discovery import registered
from shared.docs import serve_offline_docs
from shared.errors import SynapseError
from shared.readiness import READY_PATH, ReadinessCheck, run_checks

HealthCheck = Callable[[], dict[str, Any]]
PROBLEM_MEDIA_TYPE = "application/problem+json"
# The body of every unexpected failure: stable, and free of the exception's text.
INTERNAL_ERROR_PROBLEM: dict[str, Any] = {
    "error": "internal_error",
    "detail": "the service failed to handle the request",
}
logger = logging.getLogger("synapse.web")


def create_service_app(
    name: str,
    *,
    version: str = "1.0.0",
    health: HealthCheck | None = None,
    lifespan: Lifespan[FastAPI] | None = None,
    ready: Mapping[str, ReadinessCheck] | None = None,
) -> FastAPI:
    """Create a FastAPI app named after the service with /health, /ready and JSON problems.

    ``ready`` names the checks /ready runs; a service adds more later through
    ``app.state.ready_checks`` (a dict, check name -> check).
    """
    app = FastAPI(title=f"SynapseNet {name}", version=version, lifespan=announced(name, lifespan))
    app.state.service_name = name
    app.state.ready_checks = dict(ready or {})

    @app.get("/health", tags=["ops"])
    def health_endpoint() -> JSONResponse:
        extra = health() if health else {}
        healthy = extra.pop("healthy", True)
        body = {"service": name, "status": "ok" if healthy else "unavailable", **extra}
        return JSONResponse(body, status_code=200 if healthy else 503)

    @app.get(READY_PATH, tags=["ops"])
    def ready_endpoint(request: Request) -> JSONResponse:
        report = run_checks(name, request.app.state.ready_checks)
        media_type = None if report.ready else PROBLEM_MEDIA_TYPE
        return JSONResponse(report.to_body(), report.status_code, media_type=media_type)

    install_error_handlers(app)
    serve_offline_docs(app)
    app.add_middleware(UnexpectedErrorMiddleware, service=name)
    return app


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


def install_error_handlers(app: FastAPI) -> None:
    """Turn platform errors and request validation errors into JSON problem responses."""

    @app.exception_handler(SynapseError)
    async def _synapse_error(_: Request, exc: SynapseError) -> JSONResponse:
        return JSONResponse(exc.to_problem(), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
            for err in exc.errors()
        ]
        return JSONResponse({"error": "validation_error", "detail": errors}, status_code=422)


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
