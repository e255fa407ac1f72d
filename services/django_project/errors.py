"""Render platform and DRF errors as the JSON problem shape {"error": code, "detail": ...}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from shared.errors import SynapseError

# DRF's codes renamed to the platform's; anything else keeps DRF's default code.
_CODES = {"invalid": "validation_error", "not_found": "not_found"}


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn SynapseError and DRF errors into problem responses; leave the rest to Django."""
    if isinstance(exc, SynapseError):
        return Response(exc.to_problem(), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf.PermissionDenied()
    if isinstance(exc, drf.ValidationError):
        return Response({"error": "validation_error", "detail": exc.detail}, status=422)
    if isinstance(exc, drf.APIException):
        code = _CODES.get(exc.default_code, exc.default_code)
        return Response({"error": code, "detail": exc.detail}, status=exc.status_code)
    return None


def not_found_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Answer unknown paths with a JSON 404."""
    return JsonResponse(
        {"error": "not_found", "detail": f"no route for {request.path}"}, status=404
    )


def server_error_view(request: HttpRequest) -> JsonResponse:
    """Answer unhandled errors with a JSON 500 that leaks no internals."""
    return JsonResponse({"error": "internal_error", "detail": "internal server error"}, status=500)
