"""Build the pipeline service's Celery app from settings (no connection is opened here)."""

from __future__ import annotations

from typing import Any

from celery import Celery

from services.pipeline.config import Settings
from services.pipeline.tasks import register_tasks
from shared.celery_apps import make_service_celery


def make_celery_app(settings: Settings, engine: Any = None) -> Celery:
    """Create the Celery app of the step tasks; ``engine`` executes them."""
    app = make_service_celery(
        "pipeline", settings.broker_url, settings.result_backend, settings.task_always_eager
    )
    app.pipeline_engine = engine
    register_tasks(app)
    return app
