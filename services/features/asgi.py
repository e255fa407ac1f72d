"""ASGI entry point of the features: uvicorn --factory services.features.asgi:create_app."""

from __future__ import annotations

from services.django_project.asgi import ASGIApp, get_asgi_application_for
from services.django_project.wsgi import prepare_local_storage


def create_app() -> ASGIApp:
    """Return the features's ASGI app, creating the local SQLite folder when needed."""
    app = get_asgi_application_for("features")
    prepare_local_storage()
    return app
