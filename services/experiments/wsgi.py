"""WSGI entry point of the experiments (for gunicorn and in-process tests)."""

from __future__ import annotations

from services.django_project.wsgi import WSGIApp, get_wsgi_application_for, prepare_local_storage


def create_app() -> WSGIApp:
    """Return the experiments's WSGI app, creating the local SQLite folder when needed."""
    app = get_wsgi_application_for("experiments")
    prepare_local_storage()
    return app
