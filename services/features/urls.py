"""URLconf of the feature store service (served alone by its WSGI/ASGI app)."""

from __future__ import annotations

from django.urls import path

from services.django_project.docs import docs_urlpatterns
from services.django_project.health import health_urlpatterns
from services.features import views
from shared.backends import get_locks
from shared.readiness import locks_check

VIEW = "api/v1/feature-views/<str:name>"

urlpatterns = [
    # Backfills and materialisations lock their view: no lock backend, no feature store.
    *health_urlpatterns("features", {"locks": locks_check(get_locks)}),
    path("api/v1/entities", views.EntityListView.as_view(), name="entities"),
    path("api/v1/feature-views", views.FeatureViewListView.as_view(), name="feature-views"),
    path(VIEW, views.FeatureViewDetailView.as_view(), name="feature-view"),
    path(f"{VIEW}/rows", views.RowsView.as_view(), name="rows"),
    path(f"{VIEW}/materialize", views.MaterializeView.as_view(), name="materialize"),
    path(f"{VIEW}/statistics", views.StatisticsView.as_view(), name="statistics"),
    path(f"{VIEW}/drift", views.DriftView.as_view(), name="drift"),
    path("api/v1/online/<str:name>", views.OnlineView.as_view(), name="online"),
    path("api/v1/training-sets", views.TrainingSetView.as_view(), name="training-sets"),
    *docs_urlpatterns("services.features.urls"),
]

handler400 = "services.django_project.errors.bad_request_view"
handler403 = "services.django_project.errors.forbidden_view"
handler404 = "services.django_project.errors.not_found_view"
handler500 = "services.django_project.errors.server_error_view"
