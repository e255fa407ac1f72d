"""Build a service's Celery app the same way everywhere: checked broker URL, late acks, timeouts.

No connection is opened here; kombu connects when a task is first sent or a worker starts.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from celery import Celery
from celery.app import backends

from shared.infra_settings import InfraSettings, get_infra_settings

# Kombu transports the platform deploys with; anything else is a configuration mistake.
BROKER_SCHEMES = frozenset({"redis", "rediss", "amqp", "amqps", "pyamqp", "memory"})
NETWORK_SCHEMES = BROKER_SCHEMES - {"memory"}


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


_backend_classes: dict[str, tuple[type, str | None]] = {}


class ServiceCelery(Celery):  # type: ignore[misc]
    """A Celery app that finds its result backend class once per process, not once per app.

    Celery looks the class up by scanning the entry points of every installed distribution
    (about 11 ms) whenever an app first needs its backend, and services build an app each time
    they are created. The platform sets no backend aliases, so the setting alone decides.
    """

    def _get_backend(self) -> Any:
        spec = self.conf.result_backend
        if spec not in _backend_classes:
            _backend_classes[spec] = backends.by_url(spec, self.loader)
        backend_cls, url = _backend_classes[spec]
        return backend_cls(app=self, url=url)


def make_service_celery(name: str, broker_url: str, result_backend: str, eager: bool) -> Celery:
    """Return a service's Celery app: JSON tasks acknowledged after they ran, one at a time.

    Late acknowledgement with reject-on-worker-lost redelivers a task whose worker died; run
    eagerly (tests, one-process runs), a task's error reaches the caller that queued it.
    """
    app = ServiceCelery(
        f"synapse-{name}",
        broker=validate_broker_url(broker_url),
        backend=result_backend,
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
        task_always_eager=eager,
        task_eager_propagates=True,
        enable_utc=True,
        timezone="UTC",
        **redis_timeouts(get_infra_settings()),
    )
    return app
