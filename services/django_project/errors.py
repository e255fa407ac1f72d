"""Render every Django service error as the platform problem shape (application/problem+json).

The body is ``{"error": code, "detail": message}`` plus, for validation errors (422), a
``details`` list of ``{"loc": [...], "msg": ..., "type": ...}``: the same shape the FastAPI
services send, documented once as the ``Problem`` schema (``services.django_project.openapi``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from shared.errors import SynapseError
from shared.errors import ValidationError as PlatformValidationError

PROBLEM_CONTENT_TYPE = "application/problem+json"

# DRF's codes renamed to the platform's; anything else keeps DRF's default code.
_CODES = {"invalid": "validation_error", "not_found": "not_found", "parse_error": "malformed_json"}


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn SynapseError and DRF errors into problem responses; leave the rest to Django."""
    if isinstance(exc, SynapseError):
        return problem_response(platform_problem(exc), exc.status_code)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf.PermissionDenied()
    if isinstance(exc, drf.ValidationError):
        return problem_response(validation_problem(exc.detail), 422)
    if isinstance(exc, drf.APIException):
        code = _CODES.get(exc.default_code, exc.default_code)
        return problem_response({"error": code, "detail": str(exc.detail)}, exc.status_code)
    return None


def problem_response(body: dict[str, Any], status: int) -> Response:
    """Return a DRF response carrying a problem body with the problem content type."""
    return Response(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


def platform_problem(exc: SynapseError) -> dict[str, Any]:
    """Return a platform error's problem body; a validation error always lists its details."""
    body = exc.to_problem()
    if isinstance(exc, PlatformValidationError) and "details" not in body:
        body["details"] = [{"loc": [], "msg": exc.message, "type": exc.code}]
    return body


def validation_problem(detail: Any) -> dict[str, Any]:
    """Return the 422 body for DRF's nested error detail: a summary and one entry per error."""
    details = list(_field_errors(detail, []))
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(part) for part in first["loc"])
    summary = f"{where}: {first['msg']}" if where else str(first["msg"])
    if len(details) > 1:
        summary += f" (and {len(details) - 1} more)"
    return {"error": "validation_error", "detail": summary, "details": details}


def _field_errors(detail: Any, loc: list[Any]) -> Iterator[dict[str, Any]]:
    # DRF nests errors as dicts (fields, dict keys, list indexes) of lists of ErrorDetail.
    if isinstance(detail, dict):
        for key, value in detail.items():
            yield from _field_errors(value, [*loc, key])
    elif isinstance(detail, list):
        for index, item in enumerate(detail):
            yield from _field_errors(item, loc if isinstance(item, str) else [*loc, index])
    else:
        yield {"loc": loc, "msg": str(detail), "type": getattr(detail, "code", "invalid")}


def _problem(body: dict[str, Any], status: int) -> JsonResponse:
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


def bad_request_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Answer requests Django refuses before any view (too large, suspicious) with a problem."""
    if isinstance(exception, RequestDataTooBig):
        return _problem({"error": "payload_too_large", "detail": "request body too large"}, 413)
    return _problem({"error": "bad_request", "detail": "the request was refused"}, 400)


def forbidden_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Answer Django-level permission refusals with a problem."""
    return _problem({"error": "forbidden", "detail": "permission denied"}, 403)


def not_found_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Answer unknown paths with a problem 404."""
    return _problem({"error": "not_found", "detail": f"no route for {request.path}"}, 404)


def server_error_view(request: HttpRequest) -> JsonResponse:
    """Answer unhandled errors with a problem 500 that leaks no internals."""
    return _problem({"error": "internal_error", "detail": "internal server error"}, 500)
