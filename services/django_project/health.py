"""A /health endpoint each Django service mounts in its URLconf."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET


def health_urlpatterns(service: str) -> list[URLPattern]:
    """Return the URL patterns serving GET /health for a service."""

    @require_GET
    def health(request: HttpRequest) -> JsonResponse:
        return JsonResponse({"service": service, "status": "ok"})

    return [path("health", health, name="health")]
