"""URLconf of the experiments service (served alone by its WSGI/ASGI app)."""

from __future__ import annotations

from django.urls import path

from services.django_project.docs import docs_urlpatterns
from services.django_project.health import health_urlpatterns
from services.experiments import views

RUN = "api/v1/runs/<str:run_id>"

urlpatterns = [
    *health_urlpatterns("experiments"),
    path("api/v1/experiments", views.ExperimentListView.as_view(), name="experiments"),
    path("api/v1/experiments/<str:name>", views.ExperimentDetailView.as_view(), name="experiment"),
    path("api/v1/runs", views.RunListView.as_view(), name="runs"),
    path("api/v1/runs/compare", views.CompareView.as_view(), name="compare"),
    path(RUN, views.RunDetailView.as_view(), name="run"),
    path(f"{RUN}/model-versions", views.RunVersionsView.as_view(), name="run-model-versions"),
    path(f"{RUN}/end", views.EndRunView.as_view(), name="end"),
    path(f"{RUN}/params", views.ParamsView.as_view(), name="params"),
    path(f"{RUN}/tags", views.TagsView.as_view(), name="tags"),
    path(f"{RUN}/metrics", views.MetricsView.as_view(), name="metrics"),
    path(f"{RUN}/fork", views.ForkView.as_view(), name="fork"),
    path(f"{RUN}/lineage", views.LineageView.as_view(), name="lineage"),
    path(f"{RUN}/artifacts", views.ArtifactsView.as_view(), name="artifacts"),
    path("api/v1/search/runs", views.RunSearchView.as_view(), name="search-runs"),
    *docs_urlpatterns("services.experiments.urls"),
]

handler400 = "services.django_project.errors.bad_request_view"
handler403 = "services.django_project.errors.forbidden_view"
handler404 = "services.django_project.errors.not_found_view"
handler500 = "services.django_project.errors.server_error_view"
