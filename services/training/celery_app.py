"""Build the training service's Celery app from settings (no connection is opened here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from celery import Celery

from services.training.config import Settings
from services.training.tasks import register_tasks
from shared.infra_settings import InfraSettings, get_infra_settings

# Kombu transports the platform deploys with; anything else is a configuration mistake.
BROKER_SCHEMES = frozenset({"redis", "rediss", "amqp", "amqps", "pyamqp", "memory"})
NETWORK_SCHEMES = BROKER_SCHEMES - {"memory"}

JobRunner = Callable[[str], str]


class BrokerConfigError(ValueError):
    """Raised when the configured Celery broker URL cannot work."""


def validate_broker_url(url: str) -> str:
    """Return the broker URL unchanged, or raise BrokerConfigError naming what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in BROKER_SCHEMES:
        known = ", ".join(f"{s}://" for s in sorted(BROKER_SCHEMES))
        raise BrokerConfigError(f"broker URL {url!r} has unknown scheme; use one of {known}")
    if not url.startswith(f"{parts.scheme}://"):
        raise BrokerConfigError(f"broker URL {url!r} must start with '{parts.scheme}://'")
    if parts.scheme in NETWORK_SCHEMES and not parts.hostname:
        raise BrokerConfigError(f"broker URL {url!r} names no host")
    return url


def redis_timeouts(infra: InfraSettings) -> dict[str, Any]:
    """Return Celery settings that give its Redis connections the platform's timeouts."""
    # kombu builds the broker and result clients itself; only their options are ours.
    socket = {
        "socket_timeout": infra.redis_socket_timeout,
        "socket_connect_timeout": infra.redis_connect_timeout,
    }
    return {
        "broker_transport_options": socket,
        "result_backend_transport_options": socket,
        "redis_socket_timeout": infra.redis_socket_timeout,
        "redis_socket_connect_timeout": infra.redis_connect_timeout,
    }


def make_celery_app(settings: Settings, *, runner: JobRunner | None = None) -> Celery:
    """Create the Celery app for the training tasks; ``runner`` executes a job by id."""
    app = Celery(
        "synapse-training",
        broker=validate_broker_url(settings.broker_url),
        backend=settings.result_backend,
        set_as_current=False,
    )
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_always_eager=settings.task_always_eager,
        task_eager_propagates=True,
        enable_utc=True,
        timezone="UTC",
        **redis_timeouts(get_infra_settings()),
    )
    app.training_runner = runner
    register_tasks(app)
    return app
