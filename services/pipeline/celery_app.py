"""Build the pipeline service's Celery app from settings (no connection is opened here)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from celery import Celery

from services.pipeline.config import Settings
from services.pipeline.tasks import register_tasks

BROKER_SCHEMES = frozenset({"redis", "rediss", "amqp", "amqps", "pyamqp", "memory"})


def checked_broker_url(url: str) -> str:
    """Return the broker URL, or raise ValueError when Celery could not use it."""
    parts = urlsplit(url)
    if parts.scheme not in BROKER_SCHEMES or not url.startswith(f"{parts.scheme}://"):
        raise ValueError(f"broker URL {url!r} must use one of {sorted(BROKER_SCHEMES)}")
    if parts.scheme != "memory" and not parts.hostname:
        raise ValueError(f"broker URL {url!r} names no host")
    return url


def make_celery_app(settings: Settings, engine: Any = None) -> Celery:
    """Create the Celery app of the step tasks; ``engine`` executes them."""
    app = Celery(
        "synapse-pipeline",
        broker=checked_broker_url(settings.broker_url),
        backend=settings.result_backend,
        set_as_current=False,
    )
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        # A task is acknowledged after it ran, so a worker that dies mid-step has it redelivered.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_always_eager=settings.task_always_eager,
        task_eager_propagates=True,
        enable_utc=True,
        timezone="UTC",
    )
    app.pipeline_engine = engine
    register_tasks(app)
    return app
