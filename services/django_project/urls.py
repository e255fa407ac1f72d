"""Fallback URLconf for requests that name no service; each service has its own URLconf."""

from __future__ import annotations

from services.django_project.health import health_urlpatterns

urlpatterns = health_urlpatterns("django")

handler404 = "services.django_project.errors.not_found_view"
handler500 = "services.django_project.errors.server_error_view"
