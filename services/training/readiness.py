"""Training readiness: a job is only accepted when something will run it.

With ``task_always_eager`` the API process runs each job itself, so the queue is always
ready. With a broker, a job is only worth accepting when the broker answers and at least one
worker replies to a ping; otherwise the job would sit in the queue with nobody to take it.
"""

from __future__ import annotations

from celery import Celery

from shared.errors import ServiceUnavailableError

# Seconds a ping waits for the first worker's reply (it returns as soon as one answers).
PING_TIMEOUT = 1.0
# Attempts to reach the broker before calling it unreachable; kombu would otherwise retry
# for a long time and hold the request open.
BROKER_CONNECT_RETRIES = 1


class QueueProbe:
    """Tell whether the training queue has a broker and a worker that will run a job."""

    def __init__(self, celery: Celery, *, timeout: float = PING_TIMEOUT) -> None:
        self.celery = celery
        self.timeout = timeout

    @property
    def eager(self) -> bool:
        """Return whether jobs run inline in the API process (no broker, no worker)."""
        return bool(self.celery.conf.task_always_eager)

    def check(self) -> str | None:
        """Return None when a job would be run, else why it would not (readiness check)."""
        if self.eager:
            return None
        try:
            with self.celery.connection_for_write() as connection:
                connection.ensure_connection(max_retries=BROKER_CONNECT_RETRIES)
        except Exception as exc:
            return f"broker unreachable ({type(exc).__name__})"
        try:
            replies = self.celery.control.ping(timeout=self.timeout, limit=1)
        except Exception as exc:
            return f"workers could not be asked ({type(exc).__name__})"
        if not replies:
            return f"no training worker answered within {self.timeout:g}s"
        return None

    def require(self) -> None:
        """Raise 503 unless a submitted job would be taken by a worker."""
        reason = self.check()
        if reason is not None:
            raise ServiceUnavailableError(f"the training queue cannot take jobs: {reason}")
