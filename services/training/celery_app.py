"""Build the training service's Celery app from settings (no connection is opened here)."""

from __future__ import annotations

from collections.abc import Callable

from celery import Celery

from services.training.config import Settings
from services.training.tasks import register_tasks
from shared.celery_apps import make_service_celery

JobRunner = Callable[[str], str]


def make_celery_app(settings: Settings, *, runner: JobRunner | None = None) -> Celery:
    """Create the Celery app for the training tasks; ``runner`` executes a job by id."""
    app = make_service_celery(
        "training", settings.broker_url, settings.result_backend, settings.task_always_eager
    )
    app.training_runner = runner
    register_tasks(app)
    return app
