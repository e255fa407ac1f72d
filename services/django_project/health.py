"""/health and /ready endpoints each Django service mounts in its URLconf, and their checks."""

from __future__ import annotations

from collections.abc import Mapping

from django.apps import apps
from django.db import DatabaseError, connections, router
from django.db.migrations.loader import MigrationLoader
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from shared.readiness import ReadinessCheck, run_checks
from shared.services import SERVICES
from shared.web import PROBLEM_MEDIA_TYPE

DEFAULT_ALIAS = "default"


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


def unapplied_migrations(label: str, alias: str) -> list[str]:
    """Return the app's migrations not recorded as applied on database ``alias``, by name.

    Every migration counts, not only those on the way to the app's leaf: a history with a gap
    (a later migration applied, an earlier one not) plans nothing towards the leaf, yet the schema
    still lacks what the earlier one creates.
    """
    loader = MigrationLoader(connections[alias])
    return [
        f"{app}.{name}"
        for app, name in sorted(loader.graph.nodes)
        if app == label and (app, name) not in loader.applied_migrations
    ]


def database_check(alias: str) -> ReadinessCheck:
    """Return a check that database ``alias`` accepts a connection."""

    def check() -> str | None:
        try:
            connections[alias].ensure_connection()
        except DatabaseError as exc:
            return f"database {alias} unreachable ({type(exc).__name__})"
        return None

    return check


def migrations_check(label: str, alias: str) -> ReadinessCheck:
    """Return a check that every migration of app ``label`` is applied on ``alias``."""

    def check() -> str | None:
        try:
            pending = unapplied_migrations(label, alias)
        except DatabaseError as exc:
            return f"migration state of {alias} unreadable ({type(exc).__name__})"
        if pending:
            return f"unapplied migrations on {alias}: {', '.join(pending)}"
        return None

    return check


def readiness_checks(service: str) -> dict[str, ReadinessCheck]:
    """Return the /ready checks of a Django service: its database answers and is migrated."""
    spec = SERVICES.get(service)
    alias = (spec.database if spec else None) or DEFAULT_ALIAS
    checks = {"database": database_check(alias)}
    if spec is not None and spec.app_label is not None:
        checks["migrations"] = migrations_check(spec.app_label, alias)
    return checks


def health_urlpatterns(
    service: str, extra_checks: Mapping[str, ReadinessCheck] | None = None
) -> list[URLPattern]:
    """Return the URL patterns serving GET /health and GET /ready for a service.

    ``extra_checks`` are what /ready checks besides the database (the backends the service
    cannot work without).
    """

    @require_GET
    def health(request: HttpRequest) -> JsonResponse:
        if service in SERVICES:
            try:
                check_tables(service)
            except DatabaseError:
                return JsonResponse({"service": service, "status": "unavailable"}, status=503)
        return JsonResponse({"service": service, "status": "ok"})

    @require_GET
    def ready(request: HttpRequest) -> JsonResponse:
        report = run_checks(service, {**readiness_checks(service), **(extra_checks or {})})
        content_type = "application/json" if report.ready else PROBLEM_MEDIA_TYPE
        return JsonResponse(report.to_body(), status=report.status_code, content_type=content_type)

    return [path("health", health, name="health"), path("ready", ready, name="ready")]
