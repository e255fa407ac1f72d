"""A /health endpoint each Django service mounts in its URLconf, and its table check."""

from __future__ import annotations

from django.apps import apps
from django.db import DatabaseError, router
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from shared.services import SERVICES


def check_tables(service: str) -> None:
    """Read one row of every table of the service's app; raise the database's error if any fails.

    A deployment whose schema does not match the code (a migration not written or not applied)
    fails here at startup instead of on the first request that touches the broken table.
    """
    label = SERVICES[service].app_label
    if label is None:
        return
    for model in apps.get_app_config(label).get_models():
        model._default_manager.using(router.db_for_read(model)).order_by().first()


def health_urlpatterns(service: str) -> list[URLPattern]:
    """Return the URL patterns serving GET /health for a service."""

    @require_GET
    def health(request: HttpRequest) -> JsonResponse:
        if service in SERVICES:
            try:
                check_tables(service)
            except DatabaseError:
                return JsonResponse({"service": service, "status": "unavailable"}, status=503)
        return JsonResponse({"service": service, "status": "ok"})

    return [path("health", health, name="health")]
