"""The shared problem format of every FastAPI service: handlers, responses and OpenAPI."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from shared.errors import SynapseError

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "The body of every error: a stable code, a human message, optional data.",
    "properties": {
        "error": {"type": "string", "description": "stable snake_case code"},
        "detail": {"type": "string", "description": "what went wrong, for a human"},
        "details": {"description": "structured data; field errors for validation_error"},
    },
    "required": ["error", "detail"],
}
STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    502: "upstream_error",
    503: "service_unavailable",
    504: "upstream_timeout",
}
DESCRIPTIONS = {
    400: "Malformed request (malformed_json: the body is not valid JSON)",
    401: "Missing or invalid credentials",
    404: "Not found",
    409: "Conflicts with the resource's current state",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Validation error; details lists the field errors",
    429: "At capacity; retry after the seconds of the Retry-After header",
    500: "Internal error",
    502: "An upstream service failed",
    503: "Not ready to serve",
    504: "An upstream service timed out",
}
BODY_METHODS = frozenset({"post", "put", "patch"})


def problem_response(
    status: int,
    code: str,
    detail: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """Return an ``application/problem+json`` response with the shared body."""
    body: dict[str, Any] = {"error": code, "detail": detail}
    if details is not None:
        body["details"] = details
    return JSONResponse(body, status, headers=dict(headers or {}), media_type=PROBLEM_MEDIA_TYPE)


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Return route ``responses`` declaring these error statuses with the Problem body."""
    return {status: problem_doc(status) for status in statuses}


def problem_doc(status: int) -> dict[str, Any]:
    """Return the OpenAPI response object of one error status."""
    return {
        "description": DESCRIPTIONS.get(status, STATUS_CODES.get(status, "Error")),
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}},
    }


def field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Return pydantic's errors as ``{"loc", "msg", "type"}`` entries."""
    return [
        {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]} for err in exc.errors()
    ]


def summary(errors: list[dict[str, Any]]) -> str:
    """Return a one-line summary of field errors: the first one and how many more."""
    if not errors:
        return "request validation failed"
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}"


def allowed_methods(request: Request) -> list[str]:
    """Return every method some route serves at this request's path."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def install_problem_handlers(app: FastAPI) -> None:
    """Answer platform, validation and framework errors in the problem format."""

    @app.exception_handler(SynapseError)
    async def _synapse_error(_: Request, exc: SynapseError) -> JSONResponse:
        return problem_response(
            exc.status_code, exc.code, exc.message, exc.details, headers=exc.headers()
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors(exc)
        if any(err["type"] == "json_invalid" for err in errors):
            return problem_response(400, "malformed_json", "request body is not valid JSON")
        return problem_response(422, "validation_error", summary(errors), errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        if status == 404:
            detail = f"no route {request.method} {request.url.path}"
            return problem_response(404, "not_found", detail)
        if status == 405:
            allow = ", ".join(allowed_methods(request))
            detail = f"{request.method} is not allowed here; allowed: {allow}"
            return problem_response(405, "method_not_allowed", detail, headers={"Allow": allow})
        if status == 400:
            # FastAPI's only bare 400: a body it could not even decode.
            return problem_response(400, "malformed_json", "request body is not valid JSON")
        code = STATUS_CODES.get(status, "error")
        return problem_response(status, code, str(exc.detail), headers=exc.headers)


def install_problem_openapi(app: FastAPI, always: Iterable[int] = (400, 500)) -> None:
    """Make the app's OpenAPI declare its errors truthfully with one ``Problem`` schema.

    Every error response a route declares gets the Problem body under the problem media
    type; operations with a body also declare 413; operations with parameters or a body
    declare 422; every operation declares the ``always`` statuses (400: malformed JSON or a
    NUL character in the path or query; 500).
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, routes=app.routes, description=app.description
            )
            app.openapi_schema = truthful_errors(schema, tuple(always))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def truthful_errors(schema: dict[str, Any], always: tuple[int, ...]) -> dict[str, Any]:
    """Return ``schema`` with framework errors declared and every error body a Problem."""
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            codes = set(always)
            if method in BODY_METHODS and "requestBody" in operation:
                codes |= {413, 422}
            if operation.get("parameters"):
                codes.add(422)
            for code in codes:
                responses.setdefault(str(code), {})
            for code, response in responses.items():
                if code.isdigit() and int(code) >= 400:
                    kept = _kept_description(response)
                    response.clear()
                    response.update(problem_doc(int(code)) | kept)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["Problem"] = PROBLEM_SCHEMA
    return schema


def _kept_description(response: Mapping[str, Any]) -> dict[str, Any]:
    description = response.get("description")
    if description and description not in ("Validation Error", "Successful Response"):
        return {"description": description}
    return {}
