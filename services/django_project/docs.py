"""Serve the docs pages' Swagger UI and Redoc files from the pinned sidecar, not a CDN."""

from __future__ import annotations

from django.urls import URLPattern, path, re_path
from django.views.static import serve
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from shared.docs import DOCS_ASSETS_URL, docs_assets_dir

# drf-spectacular's Redoc page minus its Google Fonts links.
REDOC_TEMPLATE = "synapse/redoc.html"


def docs_urlpatterns(urlconf: str) -> list[URLPattern]:
    """Return the schema, Swagger UI, Redoc and docs-asset routes of one Django service."""
    # Django's static() helper serves nothing unless DEBUG; the docs must work without it.
    prefix = DOCS_ASSETS_URL.strip("/")
    return [
        path("api/schema", SpectacularAPIView.as_view(urlconf=urlconf), name="schema"),
        path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
        path(
            "api/redoc",
            SpectacularRedocView.as_view(url_name="schema", template_name=REDOC_TEMPLATE),
            name="redoc",
        ),
        re_path(
            rf"^{prefix}/(?P<path>.+)$",
            serve,
            {"document_root": docs_assets_dir()},
            name="docs-assets",
        ),
    ]
