"""URLconf of the registry service (served alone by its WSGI/ASGI app)."""

from __future__ import annotations

from django.urls import path

from services.django_project.docs import docs_urlpatterns
from services.django_project.health import health_urlpatterns
from services.registry import views

MODEL = "api/v1/registered-models/<str:name>"
VERSION = f"{MODEL}/versions/<int:version>"

urlpatterns = [
    *health_urlpatterns("registry"),
    path("api/v1/registered-models", views.RegisteredModelListView.as_view(), name="models"),
    path(MODEL, views.RegisteredModelDetailView.as_view(), name="model"),
    path(f"{MODEL}/versions", views.VersionListView.as_view(), name="versions"),
    path(VERSION, views.VersionDetailView.as_view(), name="version"),
    path(f"{VERSION}/transition", views.TransitionView.as_view(), name="transition"),
    path(f"{VERSION}/transitions", views.TransitionHistoryView.as_view(), name="transitions"),
    path(f"{VERSION}/lineage", views.LineageView.as_view(), name="lineage"),
    path("api/v1/model-versions", views.RunVersionListView.as_view(), name="run-versions"),
    path("api/v1/search/versions", views.VersionSearchView.as_view(), name="search-versions"),
    *docs_urlpatterns("services.registry.urls"),
]

handler400 = "services.django_project.errors.bad_request_view"
handler403 = "services.django_project.errors.forbidden_view"
handler404 = "services.django_project.errors.not_found_view"
handler500 = "services.django_project.errors.server_error_view"
