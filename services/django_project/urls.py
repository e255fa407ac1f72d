"""Fallback URLconf for requests that name no service; each service has its own URLconf."""

from __future__ import annotations

from services.django_project.health import health_urlpatterns

urlpatterns = health_urlpatterns("django")

handler400 = "services.django_project.errors.bad_request_view"
handler403 = "services.django_project.errors.forbidden_view"
handler404 = "services.django_project.errors.not_found_view"
handler500 = "services.django_project.errors.server_error_view"
