"""Build FastAPI apps the same way in every service: health, error handlers, docs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import Lifespan

from shared.errors import SynapseError

HealthCheck = Callable[[], dict[str, Any]]


def create_service_app(
    name: str,
    *,
    version: str = "1.0.0",
    health: HealthCheck | None = None,
    lifespan: Lifespan[FastAPI] | None = None,
) -> FastAPI:
    """Create a FastAPI app named after the service with /health and JSON problem errors."""
    app = FastAPI(title=f"SynapseNet {name}", version=version, lifespan=lifespan)
    app.state.service_name = name

    @app.get("/health", tags=["ops"])
    def health_endpoint() -> JSONResponse:
        extra = health() if health else {}
        healthy = extra.pop("healthy", True)
        body = {"service": name, "status": "ok" if healthy else "unavailable", **extra}
        return JSONResponse(body, status_code=200 if healthy else 503)

    install_error_handlers(app)
    return app


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
