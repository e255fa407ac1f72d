"""WSGI entry point of the features (for gunicorn and in-process tests)."""

from __future__ import annotations

from services.django_project.wsgi import WSGIApp, get_wsgi_application_for, prepare_local_storage


def create_app() -> WSGIApp:
    """Return the features's WSGI app, creating the local SQLite folder when needed."""
    app = get_wsgi_application_for("features")
    prepare_local_storage()
    return app
