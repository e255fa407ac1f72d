"""ASGI entry point of the experiments: uvicorn --factory services.experiments.asgi:create_app."""

from __future__ import annotations

from services.django_project.asgi import ASGIApp, get_asgi_application_for
from services.django_project.wsgi import prepare_local_storage


def create_app() -> ASGIApp:
    """Return the experiments's ASGI app, creating the local SQLite folder when needed."""
    app = get_asgi_application_for("experiments")
    prepare_local_storage()
    return app
